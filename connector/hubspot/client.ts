/**
 * The HubSpot CRM client: the one module that imports `@hubspot/api-client`. It sends each request with
 * the library's `apiRequest()` (its own retries and process-wide limiter off) through a per-portal
 * `PortalLimiter`, and retries here, per portal:
 *
 * - 429 TEN_SECONDLY_ROLLING: the refused request gives its place in our window back (the portal's did
 *   not count it); hold the portal's queue until the window frees (Retry-After, else our own window when
 *   it is full, else 250 ms doubling per 429 of the same request), then retry. SECONDLY (search): until our search window frees, at least 100 ms
 *   doubling per 429 of the same request, at most 1 s. DAILY: stop.
 * - 5xx, 423/477, network errors, timeouts and malformed JSON: exponential backoff with full jitter,
 *   bounded attempts, then `HubSpotError('RETRIES_EXHAUSTED')`.
 * - 401: ask the token provider to refresh once, then `HubSpotError('UNAUTHORIZED')`.
 * - Other 4xx: `HubSpotError('HTTP')` with HubSpot's category and message, no retry.
 *
 * Request shapes follow developers.hubspot.com (CRM objects v3, search, associations v4, properties v3).
 */
import { randomInt } from 'node:crypto';
import { Client } from '@hubspot/api-client';
import { HubSpotError } from './errors.js';
import { DEFAULT_CONCURRENCY, PortalLimiter, systemClock } from './limiter.js';
import type { Admission, Clock, RequestKind } from './limiter.js';
import type { TokenProvider } from './token.js';
import type {
  AssociationResult,
  BatchResponse,
  BatchUpdateInput,
  ListPage,
  ObjectType,
  Property,
  PropertyCreate,
  PropertyGroup,
  PropertyGroupCreate,
  PropertyUpdate,
  SearchPage,
  SearchRequest,
  TokenInfo,
} from './types.js';

export interface RetryOptions {
  /** Attempts for 5xx / network / malformed responses (first try included). Default 8. */
  attempts?: number;
  /** Backoff base and cap in ms: delay = random(0, min(cap, base * 2^(n-1))). Defaults 500, 30,000. */
  baseMs?: number;
  capMs?: number;
  /** Attempts when the answer is 429 (they cost nothing but time). Default 30. */
  rateLimitAttempts?: number;
  /** Per-request timeout in ms. Default 60,000. */
  timeoutMs?: number;
}

export interface HubSpotClientOptions {
  baseUrl: string;
  tokenProvider: TokenProvider;
  /** The portal's limiter; share it between every client of the same portal. */
  limiter?: PortalLimiter;
  /** Requests in flight when no limiter is given. Default 6. */
  concurrency?: number;
  retry?: RetryOptions;
  clock?: Clock;
  /** Uniform [0, 1) for jitter. */
  random?: () => number;
  /** Observes retries and throttling (for logs and progress); never gets the token. */
  onEvent?: (event: ClientEvent) => void;
}

export type ClientEvent =
  | { type: 'retry'; route: string; status: number | 'network' | 'malformed' | 'timeout'; attempt: number; delayMs: number }
  | { type: 'throttled'; route: string; policy: string; waitMs: number };

export interface ClientStats {
  /** HTTP requests sent (every attempt). */
  requests: number;
  retries: number;
  throttled: number;
  byRoute: Record<string, number>;
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH';
  path: string;
  /** Route label for stats and errors, e.g. "GET /crm/v3/objects/contacts". */
  route: string;
  kind?: RequestKind;
  qs?: Record<string, string>;
  body?: unknown;
  /** Statuses that resolve to `null` instead of throwing (e.g. 404 on a property lookup). */
  nullOn?: number[];
}

type Attempt =
  | { ok: true; status: number; headers: Headers2; text: string }
  | { ok: false; error: unknown; timeout: boolean };

/** The subset of a fetch Headers we read (node-fetch and WHATWG both have it). */
interface Headers2 {
  get(name: string): string | null;
}

interface SendResponse {
  status: number;
  headers: Headers2;
  text(): Promise<string>;
}

const OBJECT_TYPES: readonly ObjectType[] = ['contacts', 'deals'];

function checkType(type: string): asserts type is ObjectType {
  if (!OBJECT_TYPES.includes(type as ObjectType)) throw new RangeError(`object type must be contacts or deals, got "${type}"`);
}

function checkCount(what: string, n: number, max: number): void {
  if (n > max) throw new RangeError(`${what}: at most ${max} per request, got ${n}`);
}

function checkLimit(limit: number, max: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) throw new RangeError(`limit must be 1..${max}, got ${limit}`);
}

function checkName(what: string, name: string): void {
  if (!/^[a-z0-9_]+$/i.test(name)) throw new RangeError(`${what} "${name}" is not a valid HubSpot name`);
}

function defaultRandom(): number {
  return randomInt(0, 2 ** 32) / 2 ** 32;
}

function errorFields(body: unknown): { message?: string; category?: string; correlationId?: string; policyName?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const s = (k: string): string | undefined => (typeof b[k] === 'string' ? (b[k] as string) : undefined);
  const out: { message?: string; category?: string; correlationId?: string; policyName?: string } = {};
  const message = s('message');
  const category = s('category') ?? s('errorType');
  const correlationId = s('correlationId');
  const policyName = s('policyName');
  if (message !== undefined) out.message = message;
  if (category !== undefined) out.category = category;
  if (correlationId !== undefined) out.correlationId = correlationId;
  if (policyName !== undefined) out.policyName = policyName;
  return out;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

export class HubSpotClient {
  readonly baseUrl: string;
  readonly limiter: PortalLimiter;
  private readonly tokenProvider: TokenProvider;
  private readonly api: Client;
  private readonly retry: Required<RetryOptions>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly onEvent: ((event: ClientEvent) => void) | undefined;
  private readonly counters: ClientStats = { requests: 0, retries: 0, throttled: 0, byRoute: {} };

  constructor(options: HubSpotClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.tokenProvider = options.tokenProvider;
    this.clock = options.clock ?? systemClock;
    this.limiter = options.limiter ?? new PortalLimiter({ concurrency: options.concurrency ?? DEFAULT_CONCURRENCY, clock: this.clock });
    this.random = options.random ?? defaultRandom;
    this.onEvent = options.onEvent;
    this.retry = {
      attempts: options.retry?.attempts ?? 8,
      baseMs: options.retry?.baseMs ?? 500,
      capMs: options.retry?.capMs ?? 30_000,
      rateLimitAttempts: options.retry?.rateLimitAttempts ?? 30,
      timeoutMs: options.retry?.timeoutMs ?? 60_000,
    };
    // No accessToken here: the token is read per request (it may be refreshed), and the library's own
    // retries and Bottleneck limiter stay off because they are process-wide, not per portal.
    this.api = new Client({ basePath: this.baseUrl, numberOfApiCallRetries: 0 });
  }

  stats(): ClientStats {
    return { ...this.counters, byRoute: { ...this.counters.byRoute } };
  }

  // ---- CRM objects v3 -------------------------------------------------------------------------

  /** `GET /crm/v3/objects/{type}?limit&after&properties&archived` (100 a page at most). */
  async listPage(
    type: ObjectType,
    options: { after?: string; limit?: number; properties: string[]; archived?: boolean },
  ): Promise<ListPage> {
    checkType(type);
    const limit = options.limit ?? 100;
    checkLimit(limit, 100);
    for (const p of options.properties) checkName('property', p);
    const qs: Record<string, string> = { limit: String(limit), archived: String(options.archived ?? false) };
    if (options.properties.length > 0) qs.properties = options.properties.join(',');
    if (options.after !== undefined) qs.after = options.after;
    const page = await this.request<ListPage>({ method: 'GET', path: `/crm/v3/objects/${type}`, route: `GET /crm/v3/objects/${type}`, qs });
    return { results: page?.results ?? [], ...(page?.paging ? { paging: page.paging } : {}) };
  }

  /** `POST /crm/v3/objects/{type}/batch/read` with up to 100 ids. */
  async batchRead(type: ObjectType, ids: string[], properties: string[]): Promise<BatchResponse> {
    checkType(type);
    checkCount('batch read ids', ids.length, 100);
    for (const p of properties) checkName('property', p);
    if (ids.length === 0) return { status: 'COMPLETE', results: [] };
    const res = await this.request<BatchResponse>({
      method: 'POST',
      path: `/crm/v3/objects/${type}/batch/read`,
      route: `POST /crm/v3/objects/${type}/batch/read`,
      body: { properties, propertiesWithHistory: [], inputs: ids.map((id) => ({ id })) },
    });
    return res ?? { status: 'COMPLETE', results: [] };
  }

  /** `POST /crm/v3/objects/{type}/search` (200 a page, 5 requests/s, 10,000 results per query). */
  async search(type: ObjectType, body: SearchRequest): Promise<SearchPage> {
    checkType(type);
    if (body.limit !== undefined) checkLimit(body.limit, 200);
    for (const p of body.properties ?? []) checkName('property', p);
    const res = await this.request<SearchPage>({
      method: 'POST',
      path: `/crm/v3/objects/${type}/search`,
      route: `POST /crm/v3/objects/${type}/search`,
      kind: 'search',
      body,
    });
    return { total: res?.total ?? 0, results: res?.results ?? [], ...(res?.paging ? { paging: res.paging } : {}) };
  }

  // ---- Associations v4 ------------------------------------------------------------------------

  /**
   * `POST /crm/v4/associations/contacts/deals/batch/read` with up to 1,000 ids. Follows each source's
   * own `paging.next.after` (sent back as `{ id, after }`) so contacts with many deals come back whole.
   * Returns every requested id, with `[]` when it has no associations. `deals -> contacts` works the same
   * way (incremental sync uses it to find the contacts of new deals).
   */
  async associationsBatchRead(from: ObjectType, to: ObjectType, ids: string[]): Promise<Map<string, string[]>> {
    checkType(from);
    checkType(to);
    if (from === to) throw new RangeError(`associations ${from} -> ${to} are not supported`);
    checkCount('association batch read ids', ids.length, 1000);
    const out = new Map<string, string[]>();
    for (const id of ids) out.set(id, []);
    let inputs: { id: string; after?: string }[] = ids.map((id) => ({ id }));
    while (inputs.length > 0) {
      const res = await this.request<BatchResponse<AssociationResult>>({
        method: 'POST',
        path: `/crm/v4/associations/${from}/${to}/batch/read`,
        route: `POST /crm/v4/associations/${from}/${to}/batch/read`,
        body: { inputs },
      });
      assertOnlyMissingAssociations(res?.errors, `${from} -> ${to}`);
      const next: { id: string; after: string }[] = [];
      for (const r of res?.results ?? []) {
        const id = String(r.from.id);
        const list = out.get(id) ?? [];
        for (const t of r.to) list.push(String(t.toObjectId));
        out.set(id, list);
        const after = r.paging?.next?.after;
        if (after !== undefined) next.push({ id, after });
      }
      inputs = next;
    }
    for (const [id, list] of out) out.set(id, [...new Set(list)]);
    return out;
  }

  // ---- Properties v3 --------------------------------------------------------------------------

  /** `GET /crm/v3/properties/{type}/{name}`; null when the property does not exist. */
  async getProperty(type: ObjectType, name: string): Promise<Property | null> {
    checkType(type);
    checkName('property', name);
    return this.request<Property>({
      method: 'GET',
      path: `/crm/v3/properties/${type}/${name}`,
      route: `GET /crm/v3/properties/${type}/{name}`,
      nullOn: [404],
    });
  }

  /** `POST /crm/v3/properties/{type}/groups`; 409 (exists) throws HubSpotError with category CONFLICT. */
  async createPropertyGroup(type: ObjectType, group: PropertyGroupCreate): Promise<PropertyGroup> {
    checkType(type);
    checkName('property group', group.name);
    return this.requireBody(
      await this.request<PropertyGroup>({ method: 'POST', path: `/crm/v3/properties/${type}/groups`, route: `POST /crm/v3/properties/${type}/groups`, body: group }),
      'property group',
    );
  }

  /** `POST /crm/v3/properties/{type}`; 409 (exists) throws HubSpotError with category CONFLICT. */
  async createProperty(type: ObjectType, property: PropertyCreate): Promise<Property> {
    checkType(type);
    checkName('property', property.name);
    checkName('property group', property.groupName);
    if (property.type === 'enumeration' && (property.options === undefined || property.options.length === 0)) {
      throw new RangeError(`enumeration property "${property.name}" needs options`);
    }
    return this.requireBody(
      await this.request<Property>({ method: 'POST', path: `/crm/v3/properties/${type}`, route: `POST /crm/v3/properties/${type}`, body: property }),
      'property',
    );
  }

  /** `PATCH /crm/v3/properties/{type}/{name}`. */
  async updateProperty(type: ObjectType, name: string, update: PropertyUpdate): Promise<Property> {
    checkType(type);
    checkName('property', name);
    return this.requireBody(
      await this.request<Property>({ method: 'PATCH', path: `/crm/v3/properties/${type}/${name}`, route: `PATCH /crm/v3/properties/${type}/{name}`, body: update }),
      'property',
    );
  }

  // ---- Writes ---------------------------------------------------------------------------------

  /** `POST /crm/v3/objects/contacts/batch/update` with up to 100 inputs. */
  async batchUpdate(type: 'contacts', inputs: BatchUpdateInput[]): Promise<BatchResponse> {
    if (type !== 'contacts') throw new RangeError(`batch update of "${String(type)}" is not supported`);
    checkCount('batch update inputs', inputs.length, 100);
    if (inputs.length === 0) return { status: 'COMPLETE', results: [] };
    const ids = new Set<string>();
    for (const input of inputs) {
      if (typeof input.id !== 'string' || input.id === '') throw new RangeError('batch update input without an id');
      if (ids.has(input.id)) throw new RangeError(`batch update lists contact ${input.id} twice`);
      ids.add(input.id);
      for (const p of Object.keys(input.properties)) checkName('property', p);
    }
    const res = await this.request<BatchResponse>({
      method: 'POST',
      path: `/crm/v3/objects/${type}/batch/update`,
      route: `POST /crm/v3/objects/${type}/batch/update`,
      body: { inputs },
    });
    return res ?? { status: 'COMPLETE', results: [] };
  }

  // ---- Token ----------------------------------------------------------------------------------

  /** `GET /oauth/v1/access-tokens/{token}`: the portal (hub_id) and scopes of the current token. */
  async tokenInfo(): Promise<TokenInfo> {
    const token = await this.tokenProvider.getToken();
    return this.requireBody(
      await this.request<TokenInfo>({
        method: 'GET',
        path: `/oauth/v1/access-tokens/${encodeURIComponent(token)}`,
        route: 'GET /oauth/v1/access-tokens/{token}',
      }),
      'token info',
    );
  }

  /**
   * The portal (hub) id of the current token. `GET /account-info/v3/details` answers for private-app and
   * OAuth tokens alike; where it is missing (404), the OAuth token metadata's hub_id is used.
   */
  async portalId(): Promise<string> {
    const details = await this.request<{ portalId?: number }>({
      method: 'GET',
      path: '/account-info/v3/details',
      route: 'GET /account-info/v3/details',
      nullOn: [404],
    });
    if (details && typeof details.portalId === 'number') return String(details.portalId);
    return String((await this.tokenInfo()).hub_id);
  }

  // ---- The request loop -----------------------------------------------------------------------

  private requireBody<T>(value: T | null, what: string): T {
    if (value === null) throw new HubSpotError('HTTP', `HubSpot answered without a ${what}`);
    return value;
  }

  private async send(spec: RequestSpec): Promise<Attempt> {
    this.counters.requests++;
    this.counters.byRoute[spec.route] = (this.counters.byRoute[spec.route] ?? 0) + 1;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let token: string;
    try {
      token = await this.tokenProvider.getToken();
    } catch (error) {
      // A portal that is disconnected (uninstalled, revoked) stays so: retrying only delays the message.
      if (error instanceof Error && error.name === 'PortalDisconnectedError') throw error;
      return { ok: false, error, timeout: false };
    }
    try {
      const opts: { method: string; path: string; headers: Record<string, string>; qs?: Record<string, string>; body?: unknown } = {
        method: spec.method,
        path: spec.path,
        headers: { Authorization: `Bearer ${token}` },
      };
      if (spec.qs) opts.qs = spec.qs;
      if (spec.body !== undefined) opts.body = spec.body;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), this.retry.timeoutMs);
        timer.unref?.();
      });
      const res = await Promise.race([this.api.apiRequest(opts) as Promise<SendResponse>, timeout]);
      if (res === 'timeout') return { ok: false, error: new Error(`timed out after ${this.retry.timeoutMs} ms`), timeout: true };
      // Read the body inside the race too: a slow or cut-off body is a network failure.
      const text = await Promise.race([res.text(), timeout]);
      if (text === 'timeout') return { ok: false, error: new Error(`body timed out after ${this.retry.timeoutMs} ms`), timeout: true };
      return { ok: true, status: res.status, headers: res.headers, text };
    } catch (error) {
      return { ok: false, error, timeout: false };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private backoffMs(failures: number): number {
    const ceiling = Math.min(this.retry.capMs, this.retry.baseMs * 2 ** (failures - 1));
    return Math.floor(this.random() * ceiling);
  }

  private async request<T>(spec: RequestSpec): Promise<T | null> {
    const kind = spec.kind ?? 'standard';
    let failures = 0;
    let throttles = 0;
    let refreshed = false;
    let lastProblem: string;
    for (;;) {
      let admission: Admission | undefined;
      const attempt = await this.limiter.schedule(kind, (given) => {
        admission = given;
        return this.send(spec);
      });
      let retryStatus: number | 'network' | 'malformed' | 'timeout';
      if (!attempt.ok) {
        retryStatus = attempt.timeout ? 'timeout' : 'network';
        lastProblem = attempt.error instanceof Error ? attempt.error.message : String(attempt.error);
      } else {
        const { status, headers, text } = attempt;
        if (status >= 200 && status < 300) {
          if (status === 204 || text.trim() === '') return null;
          const parsed = tryParse(text);
          if (parsed.ok) return parsed.value as T;
          retryStatus = 'malformed';
          lastProblem = `malformed JSON in a ${status} answer`;
        } else {
          const parsed = tryParse(text);
          const body = parsed.ok ? parsed.value : text.slice(0, 500);
          const fields = errorFields(body);
          if (spec.nullOn?.includes(status)) return null;
          if (status === 429) {
            const policy = fields.policyName ?? 'TEN_SECONDLY_ROLLING';
            if (policy === 'DAILY') {
              throw new HubSpotError('DAILY_LIMIT', `HubSpot's daily API limit for this portal is used up (${spec.route}); try again tomorrow or raise the portal's limit`, {
                status, body, ...fields,
              });
            }
            throttles++;
            this.counters.throttled++;
            // Whether our own window is full, counting this request as the server's answer suggests...
            const ownWait = this.limiter.windowWaitMs(kind);
            // ...but it was refused, not admitted: the portal's window did not count it, so neither does ours.
            admission?.refund();
            if (throttles >= this.retry.rateLimitAttempts) {
              throw new HubSpotError('RETRIES_EXHAUSTED', `${spec.route}: still rate limited (${policy}) after ${throttles} attempts`, { status, body, ...fields });
            }
            const wait = this.throttleWaitMs(kind, policy, headers, throttles, ownWait);
            this.limiter.pauseUntil(kind, this.clock.now() + wait);
            this.onEvent?.({ type: 'throttled', route: spec.route, policy, waitMs: wait });
            continue;
          }
          if (status === 401) {
            if (!refreshed && this.tokenProvider.onUnauthorized) {
              refreshed = true;
              if (await this.tokenProvider.onUnauthorized()) continue;
            }
            throw new HubSpotError('UNAUTHORIZED', `HubSpot rejected the access token (${spec.route}): token expired or revoked`, { status, body, ...fields });
          }
          if (status >= 500 || status === 423 || status === 477) {
            retryStatus = status;
            lastProblem = `HTTP ${status}${fields.message ? `: ${fields.message}` : ''}`;
          } else {
            throw new HubSpotError('HTTP', `${spec.route} answered ${status}${fields.category ? ` ${fields.category}` : ''}: ${fields.message ?? (typeof body === 'string' ? body : 'no message')}`, {
              status, body, ...fields,
            });
          }
        }
      }
      failures++;
      if (failures >= this.retry.attempts) {
        throw new HubSpotError('RETRIES_EXHAUSTED', `${spec.route} failed ${failures} times; last: ${lastProblem}`, {
          ...(typeof retryStatus === 'number' ? { status: retryStatus } : {}),
          ...(attempt.ok ? {} : { cause: attempt.error }),
        });
      }
      const delay = this.backoffMs(failures);
      this.counters.retries++;
      this.onEvent?.({ type: 'retry', route: spec.route, status: retryStatus, attempt: failures, delayMs: delay });
      await this.clock.sleep(delay);
    }
  }

  /** `own`: ms until our window frees, counting the refused request; `throttles`: its 429s so far. */
  private throttleWaitMs(kind: RequestKind, policy: string, headers: Headers2, throttles: number, own: number): number {
    const retryAfter = Number(headers.get('retry-after'));
    if (Number.isFinite(retryAfter) && retryAfter > 0) return retryAfter * 1000;
    // The secondly (search) window frees within a second. Our own (the refused search given back) has room
    // unless others share the portal: the server counted arrivals a little after our starts, and its
    // oldest leaves within that skew. Wait 100 ms, doubling with each 429 of the same request, or until our
    // own window has room if that is later; never more than the second.
    if (policy === 'SECONDLY' || kind === 'search') return Math.min(1000, Math.max(100 * 2 ** (throttles - 1), this.limiter.windowWaitMs(kind)));
    // Never more than the advertised interval. A 429 with room left in the portal's window is not about
    // the window: a second. Otherwise see whose requests filled it (below).
    const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds'));
    const maxWait = Number.isFinite(interval) && interval > 0 ? interval : this.limiter.windowMs;
    const remaining = Number(headers.get('x-hubspot-ratelimit-remaining'));
    if (Number.isFinite(remaining) && remaining > 0) return 1000;
    // Our own window is full: our requests filled the portal's, which frees when our oldest leaves it
    // (the server counted a request a little later than we started it). Otherwise someone else's did
    // (another process with the same app and portal), and when theirs leave it we cannot know: probe after
    // 250 ms, doubling with each 429 of the same request (a refused probe is not counted).
    if (own > 0) return Math.min(maxWait, Math.max(250, own));
    return Math.min(maxWait, 250 * 2 ** (throttles - 1));
  }
}

/**
 * A v4 association batch read answers 207 with an `errors` entry per source id that has no associations
 * (`crm.associations.NO_ASSOCIATIONS_FOUND`) or no longer exists (`OBJECT_NOT_FOUND`): both mean "no
 * deals". Any other error must not be read as "no deals" (that would silently drop a customer's orders):
 * it fails the request, so the sync retries or resumes from its checkpoint.
 */
export function assertOnlyMissingAssociations(errors: unknown[] | undefined, what: string): void {
  for (const e of errors ?? []) {
    const err = (e ?? {}) as { category?: unknown; subCategory?: unknown; message?: unknown };
    if (err.subCategory === 'crm.associations.NO_ASSOCIATIONS_FOUND' || err.category === 'OBJECT_NOT_FOUND') continue;
    throw new HubSpotError('HTTP', `association read ${what} failed: ${typeof err.message === 'string' ? err.message : JSON.stringify(e)}`, {
      status: 207,
      category: typeof err.category === 'string' ? err.category : undefined,
      body: e,
    });
  }
}
