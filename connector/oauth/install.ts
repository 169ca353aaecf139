/**
 * The install flow HubSpot's marketplace starts:
 *
 *   GET /oauth/install   302 to HubSpot's authorize page with client_id, redirect_uri, scope, a random
 *                        single-use `state` (10-minute expiry) and a PKCE S256 challenge
 *   GET /oauth/callback  checks state (missing, unknown, used or expired: 400 page saying so), exchanges
 *                        the code with its verifier, reads the portal id by introspection and stores the
 *                        tokens encrypted; HubSpot's `error` (the user cancelled) is a 400 page too
 *
 * Pending states live in memory: the round trip takes seconds and a restart only costs a retry. Log lines
 * carry portal ids, never codes, states or tokens.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DEFAULT_AUTHORIZE_BASE, REQUIRED_SCOPES, type OAuthAppConfig } from './config.js';
import { sendPage, type RouteHandler } from './http.js';
import type { PortalStore } from './portal-store.js';
import { sealTokens } from './provider.js';
import { exchangeCode, introspect, OAuthError, type FetchLike } from './tokens.js';

export const STATE_TTL_MS = 10 * 60_000;

export type StateProblem = 'missing' | 'unknown' | 'expired';

/** Pending authorizations: state -> PKCE verifier, single use. */
export class InstallStates {
  private readonly pending = new Map<string, { verifier: string; expiresAt: number }>();
  constructor(private readonly now: () => number = Date.now, private readonly ttlMs = STATE_TTL_MS) {}

  create(): { state: string; verifier: string; challenge: string } {
    this.prune();
    const state = randomBytes(24).toString('base64url');
    const verifier = randomBytes(48).toString('base64url');
    this.pending.set(state, { verifier, expiresAt: this.now() + this.ttlMs });
    return { state, verifier, challenge: createHash('sha256').update(verifier, 'ascii').digest('base64url') };
  }

  /** Takes the state out (it cannot be used twice) and returns its verifier, or what is wrong with it. */
  consume(state: string | null): { verifier: string } | { problem: StateProblem } {
    if (state === null || state === '') return { problem: 'missing' };
    const p = this.pending.get(state);
    if (!p) return { problem: 'unknown' };
    this.pending.delete(state);
    if (p.expiresAt <= this.now()) return { problem: 'expired' };
    return { verifier: p.verifier };
  }

  get size(): number {
    return this.pending.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.pending) if (v.expiresAt <= now) this.pending.delete(k);
  }
}

const STATE_MESSAGES: Record<StateProblem, string> = {
  missing: 'The link back from HubSpot has no state parameter, so it cannot be matched to an install you started. Start the install again from HubSpot.',
  unknown: 'The link back from HubSpot does not match an install started here (it was already used, or another browser started it). Start the install again.',
  expired: 'The install took longer than 10 minutes and its link has expired. Start the install again.',
};

export interface InstallHandlerOptions {
  config: OAuthAppConfig;
  store: PortalStore;
  key: Buffer;
  states?: InstallStates;
  now?: () => number;
  fetch?: FetchLike;
  log?: (line: string) => void;
  /** Called after a portal's tokens are stored (e.g. start the first sync). Errors are logged, not shown. */
  onInstalled?: (portalId: string) => void | Promise<void>;
  /** Where to send the browser after a successful install; default: a confirmation page. */
  successRedirect?: (portalId: string) => string;
}

/** Mounts /oauth/install and /oauth/callback. */
export function createInstallHandler(options: InstallHandlerOptions): RouteHandler {
  const now = options.now ?? Date.now;
  const states = options.states ?? new InstallStates(now);
  const { config, store, key, log } = options;
  const scopes = config.scopes ?? REQUIRED_SCOPES;
  const callOptions = { now, ...(options.fetch ? { fetch: options.fetch } : {}) };

  return async (req, res, url) => {
    if ((req.method ?? 'GET') !== 'GET') return false;
    if (url.pathname === '/oauth/install') {
      const { state, challenge } = states.create();
      const target = new URL('/oauth/authorize', config.authorizeBase ?? DEFAULT_AUTHORIZE_BASE);
      target.searchParams.set('client_id', config.clientId);
      target.searchParams.set('redirect_uri', config.redirectUri);
      target.searchParams.set('scope', scopes.join(' '));
      target.searchParams.set('state', state);
      target.searchParams.set('code_challenge', challenge);
      target.searchParams.set('code_challenge_method', 'S256');
      res.writeHead(302, { Location: target.toString(), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'Content-Length': '0' });
      res.end();
      return true;
    }
    if (url.pathname !== '/oauth/callback') return false;

    const q = url.searchParams;
    const checked = states.consume(q.get('state'));
    if ('problem' in checked) {
      log?.(`oauth: callback refused: state ${checked.problem}`);
      sendPage(res, 400, 'Install not completed', STATE_MESSAGES[checked.problem]);
      return true;
    }
    const denied = q.get('error');
    if (denied !== null) {
      log?.(`oauth: HubSpot returned error ${denied}`);
      sendPage(res, 400, 'Install not completed', `HubSpot did not authorize the app (${denied}${q.get('error_description') ? `: ${q.get('error_description')}` : ''}).`);
      return true;
    }
    const code = q.get('code');
    if (!code) {
      sendPage(res, 400, 'Install not completed', 'The link back from HubSpot has no authorization code. Start the install again.');
      return true;
    }
    try {
      const tokens = await exchangeCode(config, code, checked.verifier, callOptions);
      const meta = await introspect(config, tokens.accessToken, callOptions);
      await store.put({
        id: meta.portalId,
        status: 'connected',
        ...sealTokens(key, meta.portalId, tokens),
        scopes: meta.scopes.length > 0 ? meta.scopes : [...scopes],
        installedAt: new Date(now()).toISOString(),
        installedBy: meta.userId,
        disconnectedReason: null,
      });
      log?.(`oauth: installed in portal ${meta.portalId}`);
      try {
        await options.onInstalled?.(meta.portalId);
      } catch (e) {
        log?.(`oauth: after-install hook for portal ${meta.portalId} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (options.successRedirect) {
        res.writeHead(302, { Location: options.successRedirect(meta.portalId), 'Cache-Control': 'no-store', 'Content-Length': '0' });
        res.end();
      } else {
        sendPage(res, 200, 'Smart Segments is installed', `Smart Segments is connected to HubSpot portal ${meta.portalId}. Add the Smart Segment card to the contact record from the card library.`);
      }
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log?.(`oauth: install failed: ${message}`);
      const status = e instanceof OAuthError && e.code === 'invalid_grant' ? 400 : 502;
      sendPage(res, status, 'Install not completed', `${message}. Start the install again.`);
    }
    return true;
  };
}
