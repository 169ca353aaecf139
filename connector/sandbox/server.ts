/**
 * The sandbox portal: a local HubSpot-compatible CRM API over Node's `http`. It is the product's embedded
 * default when no HubSpot credentials are set, the connector's test server and the bench's target.
 *
 * It answers the endpoints the product uses with HubSpot's documented request and response shapes (see
 * hubspot-shapes.ts for the sources), enforces HubSpot's per-token rate limits (a rolling 10 s window, and
 * 5 requests a second for search, which the 10 s window excludes) and can inject faults (429s, 5xx with
 * HTML or JSON bodies, truncated JSON, slow answers) from a seeded RNG so failures replay exactly.
 *
 * Endpoints:
 *   GET    /crm/v3/objects/{contacts|deals}                 list (limit <= 100, after, properties, archived)
 *   POST   /crm/v3/objects/{type}                           create
 *   GET    /crm/v3/objects/{type}/{id}                      read one
 *   PATCH  /crm/v3/objects/{type}/{id}                      update one
 *   DELETE /crm/v3/objects/{type}/{id}                      archive
 *   POST   /crm/v3/objects/{type}/batch/read                100 ids
 *   POST   /crm/v3/objects/{type}/batch/update              100 inputs
 *   POST   /crm/v3/objects/{type}/search                    200 a page, 10,000 results, 5/s
 *   POST   /crm/v4/associations/{from}/{to}/batch/read      1,000 ids, 500 associations per id a page
 *   GET|POST /crm/v3/properties/{type}, GET|PATCH /crm/v3/properties/{type}/{name},
 *   GET|POST /crm/v3/properties/{type}/groups
 *   GET    /oauth/v1/access-tokens/{token}                  token metadata (hub_id = portalId)
 *   GET    /account-info/v3/details                          account details (portalId)
 *   OAuth: /oauth/authorize, /oauth/v3/token, /oauth/v3/token/introspect (see oauth.ts)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRng, type Rng } from '../../src/random.js';
import {
  authErrorBody, correlationId, errorBody, propertyValidationBody, rateLimitBody, resolveProperties, serverErrorResponse,
  SINGULAR, toHubSpotGroup, toHubSpotObject, toHubSpotProperty, type PropertyValidation,
} from './hubspot-shapes.js';
import { createSandboxOAuth, type SandboxOAuth, type SandboxOAuthOptions } from './oauth.js';
import { Persistence } from './persist.js';
import { runSearch, SEARCH_MAX_LIMIT, SEARCH_MAX_RESULTS, SearchError } from './search.js';
import { ORDER_SCALE } from './seed.js';
import {
  lowerBound, OBJECT_TYPES, SandboxData, type ObjectType, type PropertyDefinition, type PropertyOption, type PropertyType,
} from './store.js';

export { SandboxData } from './store.js';
export type { ObjectType, StoredObject, PropertyDefinition, PropertyGroup } from './store.js';

export interface SandboxOptions {
  /** Persist here (NDJSON/JSON files, written atomically: tmp + rename, debounced); undefined = memory only. */
  dataDir?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (random). */
  port?: number;
  /** Default 42. */
  seed?: number;
  /** Default 2500 (generated on first start when dataDir is empty). */
  contacts?: number;
  /** ISO date the generated history ends at; default '2026-11-01'. */
  asOf?: string;
  /** Accepted bearer tokens; default ['sandbox-token']. */
  tokens?: string[];
  /** Per token; default { perTenSeconds: 110, searchPerSecond: 5 }. */
  rateLimit?: false | { perTenSeconds: number; searchPerSecond: number };
  /** Uniform simulated latency per request, ms; default [0, 0]. */
  latencyMs?: [number, number];
  log?: (line: string) => void;
  /** Added: uniform scale on generated order frequencies; default ORDER_SCALE (0.35, see seed.ts). */
  orderScale?: number;
  /** Added: ignore and overwrite what dataDir holds (a fresh portal from seed/contacts). */
  fresh?: boolean;
  /** Added: the portal id (hub_id); default 48_000_000 + seed. */
  portalId?: number;
  /** Added: the server clock for modification times (epoch ms); default Date.now. */
  now?: () => number;
  /** Added: debounce of data-dir writes, ms; default 250. */
  saveDebounceMs?: number;
  /** Added: the OAuth app the sandbox accepts (see oauth.ts). */
  oauth?: SandboxOAuthOptions;
}

/** Injected faults, for tests and the bench. */
export interface FaultSpec {
  /** Probabilities 0..1 (seeded RNG). */
  rate429?: number;
  rate5xx?: number;
  malformedRate?: number;
  /** Extra delay, ms. */
  slowMs?: number;
  /** The next matching requests answer these statuses in order (e.g. [429, 429, 502]); 200 = pass through. */
  nextStatuses?: number[];
  /** Only requests whose path matches. */
  paths?: RegExp;
}

export interface SandboxStats {
  requests: number;
  byRoute: Record<string, number>;
  throttled: number;
  faults: number;
}

export interface SandboxServer {
  url: string;
  port: number;
  token: string;
  portalId: number;
  inject(faults: FaultSpec): void;
  clearFaults(): void;
  stats(): SandboxStats;
  resetStats(): void;
  /** Direct access for tests: contacts, deals, associations, properties (see store.ts). */
  data: SandboxData;
  /** Added: the OAuth server (client id/secret, token expiry and revocation hooks). */
  oauth: SandboxOAuth;
  /** Regenerates the portal (and saves it when persistent). */
  reset(options?: { contacts?: number; seed?: number }): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

const LIST_MAX_LIMIT = 100;
const BATCH_MAX_INPUTS = 100;
const ASSOC_BATCH_MAX_INPUTS = 1000;
const ASSOC_PAGE = 500;
const TEN_SECONDS = 10_000;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A response the router writes. */
interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly body: Record<string, unknown>) {
    super(String(body.message));
  }
}

function badRequest(message: string, extra: Record<string, unknown> = {}): HttpError {
  return new HttpError(400, errorBody(message, 'VALIDATION_ERROR', extra));
}

function notFound(message: string): HttpError {
  return new HttpError(404, errorBody(message, 'OBJECT_NOT_FOUND'));
}

/** A rolling-window counter of accepted requests. */
class Window {
  private times: number[] = [];
  private head = 0;
  constructor(readonly span: number, readonly max: number) {}
  /** Records a request at `now` if under the limit; returns false when throttled. */
  take(now: number): boolean {
    this.prune(now);
    if (this.times.length - this.head >= this.max) return false;
    this.times.push(now);
    return true;
  }
  remaining(now: number): number {
    this.prune(now);
    return Math.max(0, this.max - (this.times.length - this.head));
  }
  private prune(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! <= now - this.span) this.head++;
    if (this.head > 1024) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

interface Route {
  method: string;
  pattern: RegExp;
  key: string;
  /** false: the token travels in the path, not the Authorization header. */
  auth?: false;
  search?: true;
  handle: (ctx: Ctx, m: RegExpExecArray) => Reply | Promise<Reply>;
}

interface Ctx {
  url: URL;
  token: string;
  body: () => Promise<unknown>;
}

function isObjectType(s: string | undefined): s is ObjectType {
  return s === 'contacts' || s === 'deals';
}

function objectType(s: string | undefined): ObjectType {
  if (isObjectType(s)) return s;
  throw badRequest(`Unable to infer object type from: ${s ?? ''}`);
}

function parseId(s: string | undefined): number | null {
  return s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : null;
}

function asRecord(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`${what} must be a JSON object`);
  return v as Record<string, unknown>;
}

function stringList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badRequest('properties must be an array of strings');
  return v.map(String);
}

function queryProperties(url: URL): string[] | undefined {
  const all = url.searchParams.getAll('properties').flatMap((p) => p.split(',')).map((p) => p.trim()).filter((p) => p !== '');
  return all.length > 0 ? all : undefined;
}

const PROPERTY_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number']);
const FIELD_TYPES: ReadonlySet<string> = new Set(['textarea', 'text', 'date', 'file', 'number', 'select', 'radio', 'checkbox',
  'booleancheckbox', 'calculation_equation', 'html', 'phonenumber']);

export async function startSandbox(options: SandboxOptions = {}): Promise<SandboxServer> {
  const seed = options.seed ?? 42;
  const asOf = options.asOf ?? '2026-11-01';
  const tokens = new Set(options.tokens && options.tokens.length > 0 ? options.tokens : ['sandbox-token']);
  const token = [...tokens][0]!;
  const limits = options.rateLimit === false ? null : (options.rateLimit ?? { perTenSeconds: 110, searchPerSecond: 5 });
  const latency = options.latencyMs ?? [0, 0];
  const log = options.log;
  const portalId = options.portalId ?? 48_000_000 + (seed % 1_000_000);
  const clock = options.now ?? Date.now;
  const data = new SandboxData(clock);
  const oauth = createSandboxOAuth(portalId, clock, options.oauth);
  let generation = { seed, contacts: options.contacts ?? 2500, asOf, orderScale: options.orderScale ?? ORDER_SCALE };

  // ---- data: load the data dir, or generate (and save) a portal ---------------------------------------
  const persistence = options.dataDir !== undefined
    ? new Persistence(options.dataDir, data, options.saveDebounceMs ?? 250, log)
    : null;
  if (persistence && !options.fresh && (await persistence.exists())) {
    const t = performance.now();
    const meta = await persistence.load();
    if (typeof meta.generation === 'object' && meta.generation !== null) generation = { ...generation, ...(meta.generation as typeof generation) };
    const n = data.counts();
    log?.(`sandbox: loaded ${n.contacts} contacts, ${n.deals} deals from ${options.dataDir} in ${Math.round(performance.now() - t)} ms`);
  } else {
    data.generate({ contacts: generation.contacts, seed: generation.seed, asOf: generation.asOf, orderScale: generation.orderScale });
    if (persistence) {
      persistence.meta = { generation };
      await persistence.flush();
    }
  }

  // ---- stats, faults, limits ------------------------------------------------------------------------
  let stats: SandboxStats = { requests: 0, byRoute: {}, throttled: 0, faults: 0 };
  let faults: FaultSpec | null = null;
  let faultQueue: number[] = [];
  const faultRng: Rng = createRng(seed ^ 0x5eed);
  const latencyRng: Rng = createRng(seed ^ 0x1a7e);
  const tenSecond = new Map<string, Window>();
  const perSecond = new Map<string, Window>();
  const windowFor = (map: Map<string, Window>, tok: string, span: number, max: number): Window => {
    let w = map.get(tok);
    if (!w) map.set(tok, (w = new Window(span, max)));
    return w;
  };

  let baseUrl = '';
  const searchCache = new Map<string, number[]>();

  // ---- handlers -------------------------------------------------------------------------------------
  const listObjects = (ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    const q = ctx.url.searchParams;
    const rawLimit = q.get('limit');
    let limit = 10;
    if (rawLimit !== null) {
      limit = Number(rawLimit);
      if (!Number.isInteger(limit) || limit < 1) throw badRequest(`limit must be a positive integer, got ${rawLimit}`);
      // HubSpot caps list pages at 100 rather than rejecting a larger limit.
      limit = Math.min(limit, LIST_MAX_LIMIT);
    }
    const rawAfter = q.get('after');
    let after = 0;
    if (rawAfter !== null && rawAfter !== '') {
      after = Number(rawAfter);
      if (!Number.isInteger(after) || after < 0) throw badRequest(`after must be a paging cursor from paging.next.after, got ${rawAfter}`);
    }
    const archived = q.get('archived') === 'true';
    const c = data.collection(type);
    const ids = archived ? c.archivedIds : c.activeIds;
    const start = lowerBound(ids, after);
    const page = ids.slice(start, start + limit);
    const props = resolveProperties(data, type, queryProperties(ctx.url));
    const assocTo = (q.get('associations') ?? '').split(',').map((s) => s.trim()).filter(isObjectType).filter((t) => t !== type);
    const results = page.map((id) => {
      const r = c.byId.get(id)!;
      const o = toHubSpotObject(data, type, r, props);
      for (const to of assocTo) {
        const other = type === 'contacts' ? data.dealsOf(id) : data.contactsOf(id);
        if (other.length > 0) {
          o.associations ??= {};
          const kind = type === 'contacts' ? 'contact_to_deal' : 'deal_to_contact';
          o.associations[to] = { results: other.map((x) => ({ id: String(x), type: kind })) };
        }
      }
      return o;
    });
    const body: Record<string, unknown> = { results };
    if (start + limit < ids.length) {
      const next = String(page[page.length - 1]! + 1);
      const link = new URL(`${baseUrl}${ctx.url.pathname}`);
      for (const [k, v] of q) if (k !== 'after') link.searchParams.append(k, v);
      link.searchParams.set('after', next);
      body.paging = { next: { after: next, link: link.toString() } };
    }
    return { status: 200, body };
  };

  const getObject = (ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    const id = parseId(m[2]);
    const r = id === null ? undefined : data.get(type, id);
    const archived = ctx.url.searchParams.get('archived') === 'true';
    if (!r || (r.archivedAt !== null) !== archived) {
      throw notFound(id === null ? 'Object not found.  objectId are usually numeric.' : `resource not found`);
    }
    return { status: 200, body: toHubSpotObject(data, type, r, resolveProperties(data, type, queryProperties(ctx.url))) };
  };

  /** Validates property writes the way HubSpot does; returns the failures (empty = valid). */
  const validateWrites = (type: ObjectType, props: Record<string, unknown>): PropertyValidation[] => {
    const failures: PropertyValidation[] = [];
    for (const [name, raw] of Object.entries(props)) {
      const def = data.getProperty(type, name);
      const fail = (error: PropertyValidation['error'], message: string): void => {
        failures.push({ isValid: false, message, error, name, localizedErrorMessage: message, portalId });
      };
      if (!def) fail('PROPERTY_DOESNT_EXIST', `Property "${name}" does not exist`);
      else if (def.readOnlyValue) fail('READ_ONLY_VALUE', `"${name}" is a read only property; its value cannot be set.`);
      else if (def.type === 'enumeration' && raw !== null && raw !== '') {
        const allowed = def.fieldType === 'checkbox' ? String(raw).split(';') : [String(raw)];
        const values = new Set(def.options.map((o) => o.value));
        const bad = allowed.find((v) => !values.has(v));
        if (bad !== undefined) {
          fail('INVALID_OPTION', `${bad} was not one of the allowed options: [${def.options.map((o) => `label: "${o.label}"\nvalue: "${o.value}"`).join(', ')}]`);
        }
      }
    }
    return failures;
  };

  const writableProps = (v: unknown): Record<string, string | null> => {
    const props = asRecord(v ?? {}, 'properties');
    const out: Record<string, string | null> = {};
    for (const [k, x] of Object.entries(props)) out[k] = x === null ? null : String(x);
    return out;
  };

  const batchEnvelope = (startedAt: string, results: unknown[], errors: unknown[]): Reply => {
    const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (errors.length > 0) {
      body.numErrors = errors.length;
      body.errors = errors;
    }
    return { status: errors.length > 0 ? 207 : 200, body };
  };

  const inputsOf = (body: Record<string, unknown>, max: number): unknown[] => {
    const inputs = body.inputs;
    if (!Array.isArray(inputs)) throw badRequest('inputs must be an array');
    if (inputs.length > max) {
      throw badRequest(`Batch input size ${inputs.length} exceeds the limit of ${max}.`, {
        context: { maxInputs: [String(max)], inputs: [String(inputs.length)] },
      });
    }
    return inputs;
  };

  const batchRead = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const startedAt = new Date().toISOString();
    const type = objectType(m[1]);
    const body = asRecord(await ctx.body(), 'request body');
    const inputs = inputsOf(body, BATCH_MAX_INPUTS);
    const props = resolveProperties(data, type, stringList(body.properties));
    const archived = ctx.url.searchParams.get('archived') === 'true';
    const results: unknown[] = [];
    const missing: string[] = [];
    const seen = new Set<number>();
    for (const input of inputs) {
      const idText = String(asRecord(input, 'input').id ?? '');
      const id = parseId(idText);
      const r = id === null ? undefined : data.get(type, id);
      if (!r || (r.archivedAt !== null) !== archived) missing.push(idText);
      else if (!seen.has(r.id)) {
        seen.add(r.id);
        results.push(toHubSpotObject(data, type, r, props));
      }
    }
    const errors = missing.length === 0 ? [] : [{
      status: 'error', category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${SINGULAR[type]} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing }, links: {},
    }];
    return batchEnvelope(startedAt, results, errors);
  };

  const batchUpdate = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const startedAt = new Date().toISOString();
    const type = objectType(m[1]);
    const body = asRecord(await ctx.body(), 'request body');
    const inputs = inputsOf(body, BATCH_MAX_INPUTS).map((i) => {
      const rec = asRecord(i, 'input');
      return { idText: String(rec.id ?? ''), props: writableProps(rec.properties) };
    });
    const ids = inputs.map((i) => i.idText);
    const dup = ids.filter((id, i) => ids.indexOf(id) !== i);
    if (dup.length > 0) throw badRequest(`Duplicate IDs found in batch input: [${[...new Set(dup)].join(', ')}]. IDs must be unique`);
    const failures = inputs.flatMap((i) => validateWrites(type, i.props));
    if (failures.length > 0) throw new HttpError(400, propertyValidationBody(failures));
    const results: unknown[] = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = parseId(input.idText);
      const r = id === null ? undefined : data.get(type, id);
      if (!r || r.archivedAt !== null) {
        missing.push(input.idText);
        continue;
      }
      data.update(type, r.id, input.props);
      results.push(toHubSpotObject(data, type, r, resolveProperties(data, type, Object.keys(input.props))));
    }
    const errors = missing.length === 0 ? [] : [{
      status: 'error', category: 'OBJECT_NOT_FOUND',
      message: `Could not get some ${SINGULAR[type]} objects, they may be deleted or not exist. Check that ids are valid.`,
      context: { ids: missing }, links: {},
    }];
    return batchEnvelope(startedAt, results, errors);
  };

  const createObject = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const body = asRecord(await ctx.body(), 'request body');
    const props = writableProps(body.properties);
    const failures = validateWrites(type, props);
    if (failures.length > 0) throw new HttpError(400, propertyValidationBody(failures));
    const r = data.create(type, props);
    return { status: 201, body: toHubSpotObject(data, type, r, resolveProperties(data, type, Object.keys(props))) };
  };

  const patchObject = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const id = parseId(m[2]);
    const r = id === null ? undefined : data.get(type, id);
    if (!r || r.archivedAt !== null) throw notFound('resource not found');
    const body = asRecord(await ctx.body(), 'request body');
    const props = writableProps(body.properties);
    const failures = validateWrites(type, props);
    if (failures.length > 0) throw new HttpError(400, propertyValidationBody(failures));
    data.update(type, r.id, props);
    return { status: 200, body: toHubSpotObject(data, type, r, resolveProperties(data, type, Object.keys(props))) };
  };

  const archiveObject = (_ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    const id = parseId(m[2]);
    // HubSpot answers 204 even for an id that does not exist.
    if (id !== null) data.archive(type, id);
    return { status: 204 };
  };

  const search = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const body = asRecord(await ctx.body(), 'request body');
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > SEARCH_MAX_LIMIT) {
      throw badRequest(`limit must be between 0 and ${SEARCH_MAX_LIMIT}, got ${String(body.limit)}`);
    }
    const afterText = body.after === undefined || body.after === null || body.after === '' ? '0' : String(body.after);
    const after = Number(afterText);
    if (!Number.isInteger(after) || after < 0) throw badRequest(`after must be a paging cursor from paging.next.after, got ${afterText}`);
    if (after + limit > SEARCH_MAX_RESULTS) {
      // HubSpot's search index refuses to page past 10,000 results with a 400.
      throw badRequest(`There was a problem with the request. The search API returns at most ${SEARCH_MAX_RESULTS} results for a query; after (${after}) + limit (${limit}) exceeds it.`);
    }
    const key = `${data.version}|${type}|${JSON.stringify([body.filterGroups ?? [], body.sorts ?? [], body.query ?? ''])}`;
    let ids = searchCache.get(key);
    if (!ids) {
      try {
        ids = runSearch(data, type, body);
      } catch (e) {
        if (e instanceof SearchError) throw badRequest(e.message);
        throw e;
      }
      if (searchCache.size >= 16) searchCache.delete(searchCache.keys().next().value!);
      searchCache.set(key, ids);
    }
    const props = resolveProperties(data, type, stringList(body.properties));
    const c = data.collection(type);
    const page = ids.slice(after, after + limit);
    const out: Record<string, unknown> = {
      total: ids.length,
      results: page.map((id) => toHubSpotObject(data, type, c.byId.get(id)!, props)),
    };
    if (after + limit < ids.length && limit > 0) out.paging = { next: { after: String(after + limit) } };
    return { status: 200, body: out };
  };

  const assocBatchRead = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const startedAt = new Date().toISOString();
    const from = objectType(m[1]);
    const to = objectType(m[2]);
    if (from === to) throw badRequest(`No associations are defined from ${from} to ${to} in the sandbox`);
    const body = asRecord(await ctx.body(), 'request body');
    const inputs = inputsOf(body, ASSOC_BATCH_MAX_INPUTS);
    // HubSpot-defined association types: contact_to_deal = 4, deal_to_contact = 3.
    const typeId = from === 'contacts' ? 4 : 3;
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const rec = asRecord(input, 'input');
      const idText = String(rec.id ?? '');
      const id = parseId(idText);
      const source = id === null ? undefined : data.get(from, id);
      const all = source && source.archivedAt === null ? (from === 'contacts' ? data.dealsOf(source.id) : data.contactsOf(source.id)) : [];
      const live = all.filter((x) => data.get(to, x)?.archivedAt === null);
      const afterText = rec.after === undefined || rec.after === null ? '' : String(rec.after);
      const start = afterText === '' ? 0 : lowerBound(live, Number(afterText));
      if (live.length === 0) {
        errors.push({
          status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
          context: { fromObjectId: [idText] }, links: {},
          message: `No ${SINGULAR[to].toLowerCase()} is associated with ${SINGULAR[from].toLowerCase()} ${idText}.`,
        });
        continue;
      }
      const page = live.slice(start, start + ASSOC_PAGE);
      const result: Record<string, unknown> = {
        from: { id: idText },
        to: page.map((x) => ({ toObjectId: String(x), associationTypes: [{ category: 'HUBSPOT_DEFINED', typeId, label: null }] })),
      };
      if (start + ASSOC_PAGE < live.length) {
        result.paging = { next: { after: String(page[page.length - 1]! + 1), link: null } };
      }
      results.push(result);
    }
    return batchEnvelope(startedAt, results, errors);
  };

  const listProperties = (ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    const archived = ctx.url.searchParams.get('archived') === 'true';
    const results = [...data.propertyDefs[type].values()].filter((p) => p.archived === archived).map(toHubSpotProperty);
    return { status: 200, body: { results } };
  };

  const parseOptions = (v: unknown): PropertyOption[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw badRequest('options must be an array');
    return v.map((o, i) => {
      const r = asRecord(o, 'option');
      if (typeof r.label !== 'string' || typeof r.value !== 'string') throw badRequest(`option ${i} needs a string label and value`);
      const opt: PropertyOption = { label: r.label, value: r.value, hidden: r.hidden === true, displayOrder: typeof r.displayOrder === 'number' ? r.displayOrder : i };
      if (typeof r.description === 'string') opt.description = r.description;
      return opt;
    });
  };

  const createProperty = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const b = asRecord(await ctx.body(), 'request body');
    for (const f of ['name', 'label', 'type', 'fieldType', 'groupName'] as const) {
      if (typeof b[f] !== 'string' || b[f] === '') throw badRequest(`${f} is required`);
    }
    const name = b.name as string;
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw badRequest(`Property name ${name} is invalid: use lower-case letters, digits and underscores, starting with a letter`);
    if (!PROPERTY_TYPES.has(b.type as string)) throw badRequest(`Invalid property type ${String(b.type)}`);
    if (!FIELD_TYPES.has(b.fieldType as string)) throw badRequest(`Invalid field type ${String(b.fieldType)}`);
    if (!data.propertyGroups[type].has(b.groupName as string)) throw badRequest(`Property group ${String(b.groupName)} does not exist`);
    const existing = data.propertyDefs[type].get(name);
    if (existing && !existing.archived) {
      // HubSpot's 409 body, as its objects API sends it ({"status":"error","message":"... already exists...",
      // "correlationId","category":"CONFLICT"}, quoted in HubSpot/hubspot-api-nodejs#545).
      throw new HttpError(409, errorBody(`Property named '${name}' already exists.`, 'CONFLICT', { context: { name: [name] } }));
    }
    const now = new Date(clock()).toISOString();
    const def: PropertyDefinition = {
      name, label: b.label as string, type: b.type as PropertyType, fieldType: b.fieldType as string,
      groupName: b.groupName as string, description: typeof b.description === 'string' ? b.description : '',
      options: parseOptions(b.options), displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1,
      hasUniqueValue: b.hasUniqueValue === true, hidden: b.hidden === true, formField: b.formField === true,
      calculated: false, externalOptions: false, readOnlyValue: false, createdAt: now, updatedAt: now, archived: false,
    };
    data.propertyDefs[type].set(name, def);
    data.changed('properties');
    return { status: 201, body: toHubSpotProperty(def) };
  };

  const getProperty = (_ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    const def = data.getProperty(type, decodeURIComponent(m[2]!));
    if (!def) throw notFound(`Unable to find property ${m[2]} for object type ${type}`);
    return { status: 200, body: toHubSpotProperty(def) };
  };

  const patchProperty = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const def = data.getProperty(type, decodeURIComponent(m[2]!));
    if (!def) throw notFound(`Unable to find property ${m[2]} for object type ${type}`);
    const b = asRecord(await ctx.body(), 'request body');
    if (def.hubspotDefined && (b.type !== undefined || b.fieldType !== undefined)) {
      throw badRequest(`Cannot change the type of HubSpot-defined property ${def.name}`);
    }
    if (typeof b.label === 'string') def.label = b.label;
    if (typeof b.description === 'string') def.description = b.description;
    if (typeof b.groupName === 'string') {
      if (!data.propertyGroups[type].has(b.groupName)) throw badRequest(`Property group ${b.groupName} does not exist`);
      def.groupName = b.groupName;
    }
    if (typeof b.type === 'string') {
      if (!PROPERTY_TYPES.has(b.type)) throw badRequest(`Invalid property type ${b.type}`);
      def.type = b.type as PropertyType;
    }
    if (typeof b.fieldType === 'string') {
      if (!FIELD_TYPES.has(b.fieldType)) throw badRequest(`Invalid field type ${b.fieldType}`);
      def.fieldType = b.fieldType;
    }
    if (b.options !== undefined) def.options = parseOptions(b.options);
    if (typeof b.displayOrder === 'number') def.displayOrder = b.displayOrder;
    if (typeof b.hidden === 'boolean') def.hidden = b.hidden;
    if (typeof b.formField === 'boolean') def.formField = b.formField;
    def.updatedAt = new Date(clock()).toISOString();
    data.changed('properties');
    return { status: 200, body: toHubSpotProperty(def) };
  };

  const listGroups = (_ctx: Ctx, m: RegExpExecArray): Reply => {
    const type = objectType(m[1]);
    return { status: 200, body: { results: [...data.propertyGroups[type].values()].filter((g) => !g.archived).map(toHubSpotGroup) } };
  };

  const createGroup = async (ctx: Ctx, m: RegExpExecArray): Promise<Reply> => {
    const type = objectType(m[1]);
    const b = asRecord(await ctx.body(), 'request body');
    if (typeof b.name !== 'string' || b.name === '') throw badRequest('name is required');
    if (typeof b.label !== 'string' || b.label === '') throw badRequest('label is required');
    if (data.propertyGroups[type].get(b.name)?.archived === false) {
      throw new HttpError(409, errorBody(`A property group named '${b.name}' already exists.`, 'CONFLICT', { context: { name: [b.name] } }));
    }
    const g = { name: b.name, label: b.label, displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1, archived: false };
    data.propertyGroups[type].set(g.name, g);
    data.changed('properties');
    return { status: 201, body: toHubSpotGroup(g) };
  };

  // developers.hubspot.com/docs/api/settings/account-information-api (GET /account-info/v3/details).
  const accountDetails = (): Reply => ({
    status: 200,
    body: {
      portalId, accountType: 'DEVELOPER_TEST', timeZone: 'Europe/Kyiv', companyCurrency: 'USD', additionalCurrencies: [],
      utcOffset: '+02:00', utcOffsetMilliseconds: 7_200_000, uiDomain: 'app.hubspot.com', dataHostingLocation: 'eu1',
    },
  });

  const tokenInfo = (_ctx: Ctx, m: RegExpExecArray): Reply => {
    const t = decodeURIComponent(m[1]!);
    if (!tokens.has(t)) throw notFound('Token not found');
    // developers.hubspot.com/docs/api-reference/legacy/auth/oauth (GET /oauth/v1/access-tokens/{token}).
    return {
      status: 200,
      body: {
        token: t, user: 'sandbox@smart-segments.local', hub_domain: `sandbox-${portalId}.hubspot.local`,
        scopes: ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read', 'crm.schemas.contacts.write'],
        scope_to_scope_group_pks: [], trial_scopes: [], trial_scope_to_scope_group_pks: [],
        hub_id: portalId, app_id: 1_000_001, expires_in: 1800, user_id: 1, token_type: 'access',
      },
    };
  };

  const T = '(contacts|deals|[^/]+)';
  const routes: Route[] = [
    { method: 'GET', pattern: new RegExp(`^/crm/v3/objects/${T}$`), key: 'GET /crm/v3/objects/{type}', handle: listObjects },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/objects/${T}$`), key: 'POST /crm/v3/objects/{type}', handle: createObject },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/objects/${T}/batch/read$`), key: 'POST /crm/v3/objects/{type}/batch/read', handle: batchRead },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/objects/${T}/batch/update$`), key: 'POST /crm/v3/objects/{type}/batch/update', handle: batchUpdate },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/objects/${T}/search$`), key: 'POST /crm/v3/objects/{type}/search', search: true, handle: search },
    { method: 'GET', pattern: new RegExp(`^/crm/v3/objects/${T}/([^/]+)$`), key: 'GET /crm/v3/objects/{type}/{id}', handle: getObject },
    { method: 'PATCH', pattern: new RegExp(`^/crm/v3/objects/${T}/([^/]+)$`), key: 'PATCH /crm/v3/objects/{type}/{id}', handle: patchObject },
    { method: 'DELETE', pattern: new RegExp(`^/crm/v3/objects/${T}/([^/]+)$`), key: 'DELETE /crm/v3/objects/{type}/{id}', handle: archiveObject },
    { method: 'POST', pattern: new RegExp(`^/crm/v4/associations/${T}/${T}/batch/read$`), key: 'POST /crm/v4/associations/{from}/{to}/batch/read', handle: assocBatchRead },
    { method: 'GET', pattern: new RegExp(`^/crm/v3/properties/${T}/groups$`), key: 'GET /crm/v3/properties/{type}/groups', handle: listGroups },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/properties/${T}/groups$`), key: 'POST /crm/v3/properties/{type}/groups', handle: createGroup },
    { method: 'GET', pattern: new RegExp(`^/crm/v3/properties/${T}$`), key: 'GET /crm/v3/properties/{type}', handle: listProperties },
    { method: 'POST', pattern: new RegExp(`^/crm/v3/properties/${T}$`), key: 'POST /crm/v3/properties/{type}', handle: createProperty },
    { method: 'GET', pattern: new RegExp(`^/crm/v3/properties/${T}/([^/]+)$`), key: 'GET /crm/v3/properties/{type}/{name}', handle: getProperty },
    { method: 'PATCH', pattern: new RegExp(`^/crm/v3/properties/${T}/([^/]+)$`), key: 'PATCH /crm/v3/properties/{type}/{name}', handle: patchProperty },
    { method: 'GET', pattern: /^\/account-info\/v3\/details$/, key: 'GET /account-info/v3/details', handle: accountDetails },
    { method: 'GET', pattern: /^\/oauth\/v1\/access-tokens\/([^/]+)$/, key: 'GET /oauth/v1/access-tokens/{token}', auth: false, handle: tokenInfo },
  ];

  // ---- the request pipeline -------------------------------------------------------------------------
  const send = (res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string>): void => {
    res.writeHead(status, {
      'Content-Type': contentType,
      'Content-Length': String(Buffer.byteLength(body)),
      'X-HubSpot-Correlation-Id': correlationId(),
      ...headers,
    });
    res.end(body);
  };

  const readBody = (req: IncomingMessage): Promise<string> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) reject(badRequest(`request body larger than ${MAX_BODY_BYTES} bytes`));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

  const parseJson = (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (e) {
      // HubSpot reports where the JSON broke: "Invalid input JSON on line 1, column 11: ...".
      const msg = e instanceof Error ? e.message : String(e);
      const pos = /position (\d+)/.exec(msg);
      let line = 1;
      let column = text.length + 1;
      if (pos) {
        const before = text.slice(0, Number(pos[1]));
        line = before.split('\n').length;
        column = before.length - before.lastIndexOf('\n');
      }
      throw badRequest(`Invalid input JSON on line ${line}, column ${column}: ${msg}`);
    }
  };

  const delay = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox.local');
    const method = req.method ?? 'GET';
    stats.requests++;
    let route: Route | undefined;
    let match: RegExpExecArray | null = null;
    for (const r of routes) {
      if (r.method !== method) continue;
      match = r.pattern.exec(url.pathname);
      if (match) {
        route = r;
        break;
      }
    }
    const routeKey = route?.key ?? 'unmatched';
    stats.byRoute[routeKey] = (stats.byRoute[routeKey] ?? 0) + 1;
    let status = 500;
    const finish = (s: number, body: string, contentType: string, headers: Record<string, string> = {}): void => {
      status = s;
      send(res, s, body, contentType, headers);
    };
    const json = (s: number, body: unknown, headers: Record<string, string> = {}): void => {
      finish(s, body === undefined ? '' : JSON.stringify(body), 'application/json;charset=utf-8', headers);
    };
    try {
      if (url.pathname.startsWith('/oauth/') && (await oauth.handle(req, res, url))) {
        status = res.statusCode;
        return;
      }
      // Authentication (the token-info route carries its token in the path).
      const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
      const tok = auth?.[1]?.trim() ?? '';
      if (route?.auth !== false && !tokens.has(tok) && !oauth.accepts(tok)) {
        json(401, authErrorBody());
        return;
      }
      if (!route || !match) {
        json(404, errorBody(`No route for ${method} ${url.pathname}`, 'OBJECT_NOT_FOUND'));
        return;
      }

      // Injected faults.
      let malformed = false;
      let extraDelay = 0;
      if (faults && (!faults.paths || faults.paths.test(url.pathname))) {
        extraDelay = faults.slowMs ?? 0;
        let forced: number | undefined = faultQueue.shift();
        if (forced === undefined) {
          if (faults.rate429 !== undefined && faultRng() < faults.rate429) forced = 429;
          else if (faults.rate5xx !== undefined && faultRng() < faults.rate5xx) forced = [500, 502, 503, 504][Math.floor(faultRng() * 4)]!;
          else if (faults.malformedRate !== undefined && faultRng() < faults.malformedRate) malformed = true;
        }
        if (forced !== undefined && forced >= 400) {
          stats.faults++;
          await delay(extraDelay);
          if (forced === 429) {
            json(429, rateLimitBody('TEN_SECONDLY_ROLLING'), limits ? {
              'X-HubSpot-RateLimit-Interval-Milliseconds': String(TEN_SECONDS),
              'X-HubSpot-RateLimit-Max': String(limits.perTenSeconds),
              'X-HubSpot-RateLimit-Remaining': '0',
            } : {});
          } else if (forced >= 500) {
            const e = serverErrorResponse(forced);
            finish(forced, e.body, e.contentType);
          } else {
            json(forced, errorBody(`Injected fault ${forced}`, forced === 423 ? 'LOCKED' : 'INJECTED_FAULT'));
          }
          return;
        }
        if (malformed) stats.faults++;
      }

      // Rate limits, per token: search has its own per-second limit and is excluded from the 10 s window.
      const rateHeaders: Record<string, string> = {};
      if (limits && route.auth !== false) {
        const now = Date.now();
        if (route.search) {
          if (!windowFor(perSecond, tok, 1000, limits.searchPerSecond).take(now)) {
            stats.throttled++;
            json(429, rateLimitBody('SECONDLY'));
            return;
          }
        } else {
          const w = windowFor(tenSecond, tok, TEN_SECONDS, limits.perTenSeconds);
          const ok = w.take(now);
          rateHeaders['X-HubSpot-RateLimit-Interval-Milliseconds'] = String(TEN_SECONDS);
          rateHeaders['X-HubSpot-RateLimit-Max'] = String(limits.perTenSeconds);
          rateHeaders['X-HubSpot-RateLimit-Remaining'] = String(w.remaining(now));
          if (!ok) {
            stats.throttled++;
            json(429, rateLimitBody('TEN_SECONDLY_ROLLING'), rateHeaders);
            return;
          }
        }
      }

      const lat = latency[0] + (latency[1] - latency[0]) * latencyRng();
      await delay(lat + extraDelay);

      let bodyPromise: Promise<unknown> | undefined;
      const ctx: Ctx = {
        url,
        token: tok,
        body: () => (bodyPromise ??= readBody(req).then((t) => (t.trim() === '' ? {} : parseJson(t)))),
      };
      const reply = await route.handle(ctx, match);
      const headers = { ...rateHeaders, ...(reply.headers ?? {}) };
      if (reply.status === 204) {
        finish(204, '', 'application/json;charset=utf-8', headers);
      } else if (malformed) {
        const full = JSON.stringify(reply.body);
        finish(reply.status, full.slice(0, Math.max(1, Math.floor(full.length / 2))), 'application/json;charset=utf-8', headers);
      } else {
        json(reply.status, reply.body, headers);
      }
    } catch (e) {
      if (e instanceof HttpError) json(e.status, e.body);
      else {
        log?.(`sandbox: ${method} ${url.pathname} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        json(500, errorBody('internal error', 'INTERNAL_ERROR'));
      }
    } finally {
      log?.(`${method} ${url.pathname}${url.search} -> ${status} ${(performance.now() - started).toFixed(1)} ms`);
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      log?.(`sandbox: unhandled ${String(e)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  baseUrl = `http://${host}:${addr.port}`;
  log?.(`sandbox: listening on ${baseUrl} (portal ${portalId})`);

  let closed = false;
  return {
    url: baseUrl,
    port: addr.port,
    token,
    portalId,
    data,
    oauth,
    inject(spec: FaultSpec): void {
      faults = spec;
      faultQueue = [...(spec.nextStatuses ?? [])];
    },
    clearFaults(): void {
      faults = null;
      faultQueue = [];
    },
    stats: () => ({ ...stats, byRoute: { ...stats.byRoute } }),
    resetStats(): void {
      stats = { requests: 0, byRoute: {}, throttled: 0, faults: 0 };
    },
    async reset(opts: { contacts?: number; seed?: number } = {}): Promise<void> {
      generation = { ...generation, contacts: opts.contacts ?? generation.contacts, seed: opts.seed ?? generation.seed };
      data.generate({ contacts: generation.contacts, seed: generation.seed, asOf: generation.asOf, orderScale: generation.orderScale });
      searchCache.clear();
      tenSecond.clear();
      perSecond.clear();
      if (persistence) {
        persistence.meta = { generation };
        await persistence.flush();
      }
    },
    flush: () => persistence?.flush() ?? Promise.resolve(),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await persistence?.close();
    },
  };
}

export { OBJECT_TYPES };
