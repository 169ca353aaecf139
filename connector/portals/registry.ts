/**
 * The installed portals of the marketplace server, each isolated from the others: its own rate limiter
 * (HubSpot counts requests per installed account), its own HubSpot client whose tokens come from
 * `PortalTokens.provider(portalId)`, its own view of the shared store (`store.withPortal`), and its own
 * snapshot, published model and job queue (a `PortalApp`, the same one the single-portal server serves).
 *
 * A portal's app is created on first use and kept; whether the portal may be served is read from the
 * portal store on every request, so an uninstall or a revoked token takes effect at once.
 */
import type { Geocoder } from '../../src/types.js';
import type { AppConfig } from '../config.js';
import { HubSpotClient } from '../hubspot/client.js';
import { PortalLimiter } from '../hubspot/limiter.js';
import type { PortalRecord, PortalStore } from '../oauth/portal-store.js';
import type { PortalTokens } from '../oauth/provider.js';
import type { WebhookCallbacks } from '../webhooks/handler.js';
import { HttpError } from '../server/http.js';
import type { JobView } from '../server/jobs.js';
import { createPortalApp } from '../server/server.js';
import type { PortalApp } from '../server/server.js';
import type { Store } from '../store.js';
import { lastSync } from '../sync.js';
import type { CrmChanges } from './resync.js';

export interface PortalRegistryOptions {
  config: AppConfig;
  /** The shared store; each portal gets `store.withPortal(id)`. */
  store: Store;
  portals: PortalStore;
  tokens: PortalTokens;
  /** HubSpot's API base (HUBSPOT_API_BASE; the sandbox in tests). */
  apiBase: string;
  geocoder: Geocoder;
  log?: (line: string) => void;
}

/** Why a portal cannot be served: 409 not installed, 410 disconnected (uninstalled, revoked, unreadable tokens). */
export class PortalUnavailableError extends HttpError {
  constructor(
    status: 409 | 410,
    code: 'portal_not_installed' | 'portal_disconnected',
    message: string,
    readonly portalId: string,
  ) {
    super(status, code, message);
    this.name = 'PortalUnavailableError';
  }
}

export class PortalRegistry {
  private readonly apps = new Map<string, Promise<PortalApp>>();
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(private readonly options: PortalRegistryOptions) {
    this.log = options.log ?? (() => {});
  }

  /** The portal's record, or a PortalUnavailableError saying why it cannot be served. */
  async require(portalId: string): Promise<PortalRecord> {
    const record = await this.options.portals.get(portalId);
    if (!record) {
      throw new PortalUnavailableError(409, 'portal_not_installed', `Smart Segments is not installed in HubSpot portal ${portalId}: an admin installs it from the marketplace listing.`, portalId);
    }
    if (record.status === 'disconnected') {
      throw new PortalUnavailableError(410, 'portal_disconnected', `HubSpot portal ${portalId} is disconnected: ${record.disconnectedReason ?? 'install Smart Segments again.'}`, portalId);
    }
    return record;
  }

  /** The app of a connected portal (created on first use); throws PortalUnavailableError otherwise. */
  async app(portalId: string): Promise<PortalApp> {
    await this.require(portalId);
    return this.open(portalId);
  }

  /** The portal's app whatever its status (its stored data stays readable to the registry itself). */
  open(portalId: string): Promise<PortalApp> {
    if (this.closed) return Promise.reject(new Error('the portal registry is closed'));
    const id = String(portalId);
    let app = this.apps.get(id);
    if (!app) {
      app = this.create(id);
      this.apps.set(id, app);
      app.catch(() => this.apps.delete(id));
    }
    return app;
  }

  private async create(portalId: string): Promise<PortalApp> {
    const { config, store, tokens, apiBase, geocoder } = this.options;
    const limiter = new PortalLimiter({
      perWindow: config.rateLimit.perTenSeconds,
      searchPerSecond: config.rateLimit.searchPerSecond,
      concurrency: config.concurrency,
    });
    const client = new HubSpotClient({ baseUrl: apiBase, tokenProvider: tokens.provider(portalId), limiter });
    const app = await createPortalApp({
      config,
      store: store.withPortal(portalId),
      client,
      portalId,
      hubspotBase: apiBase,
      geocoder,
      log: (line) => this.log(`portal ${portalId}: ${line}`),
    });
    await app.resumeInterrupted();
    return app;
  }

  /** After an install (or a re-install): a full sync of the portal, as a job. */
  async installed(portalId: string): Promise<JobView> {
    const app = await this.app(portalId);
    const job = app.sync('full');
    this.log(`portal ${portalId}: installed; full sync job ${job.id}`);
    return job;
  }

  /** Start-up: every connected portal catches up (incremental after an earlier sync, else full). */
  async resumeAll(): Promise<void> {
    for (const record of await this.options.portals.list()) {
      if (record.status !== 'connected') continue;
      const app = await this.open(record.id);
      const synced = (await lastSync(this.options.store.withPortal(record.id))) !== undefined;
      app.sync(synced ? 'incremental' : 'full');
    }
  }

  /** Queues webhook changes for a portal; changes for a portal that is not served are dropped with a log line. */
  async enqueue(portalId: string, changes: CrmChanges): Promise<JobView | null> {
    let app: PortalApp;
    try {
      app = await this.app(portalId);
    } catch (error) {
      if (error instanceof PortalUnavailableError) {
        this.log(`webhooks: ignoring events for portal ${portalId}: ${error.code}`);
        return null;
      }
      throw error;
    }
    return app.applyChanges(changes);
  }

  /** What the webhook handler calls: each enqueues a job and returns at once (HubSpot waits at most 5 s). */
  callbacks(): WebhookCallbacks {
    const queue = async (portalId: string, changes: CrmChanges): Promise<void> => {
      await this.enqueue(portalId, changes);
    };
    return {
      resyncContacts: (portalId, ids) => queue(portalId, { resyncContacts: ids }),
      resyncDeals: (portalId, ids) => queue(portalId, { resyncDeals: ids }),
      deleteContacts: (portalId, ids) => queue(portalId, { deleteContacts: ids }),
      deleteDeals: (portalId, ids) => queue(portalId, { deleteDeals: ids }),
    };
  }

  /** Portal ids with an app in memory. */
  loaded(): string[] {
    return [...this.apps.keys()];
  }

  /** Resolves when every portal's queued jobs are finished. */
  async idle(): Promise<void> {
    const apps = await Promise.allSettled([...this.apps.values()]);
    await Promise.all(apps.map((a) => (a.status === 'fulfilled' ? a.value.idle() : undefined)));
  }

  async close(): Promise<void> {
    this.closed = true;
    const apps = await Promise.allSettled([...this.apps.values()]);
    await Promise.all(apps.map((a) => (a.status === 'fulfilled' ? a.value.stop() : undefined)));
  }
}
