/**
 * The CRM search API's query semantics (POST /crm/v3/objects/{type}/search), after
 * developers.hubspot.com/docs/api-reference/search/guide and @hubspot/api-client's `PublicObjectSearchRequest`
 * / `Filter` models: filter groups are ORed, filters within a group ANDed; operators EQ, NEQ, LT, LTE, GT,
 * GTE, BETWEEN (value..highValue), IN / NOT_IN (values), HAS_PROPERTY / NOT_HAS_PROPERTY, CONTAINS_TOKEN /
 * NOT_CONTAINS_TOKEN (`*` wildcards); at most 5 groups, 10 filters a group, 25 filters; one sort, either
 * `{ propertyName, direction }` or the string form ("createdate", "-createdate"); 200 results a page and
 * no paging past 10,000 results.
 *
 * Documented choices where HubSpot's docs are silent: without sorts, results come in ascending id order;
 * string comparisons ignore case; NEQ / NOT_IN include records without a value.
 */
import { LAST_MODIFIED, type ObjectType, type SandboxData, type StoredObject } from './store.js';

export const SEARCH_MAX_LIMIT = 200;
export const SEARCH_MAX_RESULTS = 10_000;
export const SEARCH_MAX_GROUPS = 5;
export const SEARCH_MAX_FILTERS_PER_GROUP = 10;
export const SEARCH_MAX_FILTERS = 25;

export interface SearchFilter {
  propertyName: string;
  operator: string;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

export interface SearchSort {
  propertyName: string;
  direction: 'ASCENDING' | 'DESCENDING';
}

export class SearchError extends Error {}

const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY',
  'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);

type Kind = 'time' | 'number' | 'string';
type Getter = (r: StoredObject) => number | string | null;

function kindOf(data: SandboxData, type: ObjectType, name: string): Kind {
  const def = data.getProperty(type, name);
  if (!def) return 'string';
  if (def.type === 'datetime' || def.type === 'date') return 'time';
  if (def.type === 'number') return 'number';
  return 'string';
}

/** A comparable value for a record: epoch ms for dates, numbers for numbers, lower-case strings. */
function getter(data: SandboxData, type: ObjectType, name: string, kind: Kind): Getter {
  if (name === 'hs_object_id') return (r) => r.id;
  if (name === 'createdate') return (r) => r.createdAt;
  if (name === LAST_MODIFIED[type]) return (r) => r.updatedAt;
  return (r) => {
    const v = r.properties[name];
    if (v === null || v === undefined || v === '') return null;
    if (kind === 'string') return v.toLowerCase();
    const x = kind === 'time' ? parseTime(v) : Number(v);
    return Number.isFinite(x) ? x : null;
  };
}

/** Epoch ms from "1700000000000" or an ISO date / date-time. */
export function parseTime(v: string): number {
  if (/^-?\d+$/.test(v)) return Number(v);
  return Date.parse(v);
}

function operand(kind: Kind, v: unknown, filter: SearchFilter): number | string {
  if (v === undefined || v === null) throw new SearchError(`filter on ${filter.propertyName} with operator ${filter.operator} needs a value`);
  const s = String(v);
  if (kind === 'string') return s.toLowerCase();
  const x = kind === 'time' ? parseTime(s) : Number(s);
  if (!Number.isFinite(x)) throw new SearchError(`${s} is not a valid ${kind === 'time' ? 'date' : 'number'} for ${filter.propertyName}`);
  return x;
}

function tokenMatcher(pattern: string): (s: string) => boolean {
  const re = new RegExp(`^${pattern.toLowerCase().split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (s) => re.test(s) || s.split(/[^a-z0-9]+/).some((t) => re.test(t));
}

export function compileFilter(data: SandboxData, type: ObjectType, f: SearchFilter): (r: StoredObject) => boolean {
  if (typeof f !== 'object' || f === null || typeof f.propertyName !== 'string') throw new SearchError('each filter needs a propertyName');
  if (!OPERATORS.has(f.operator)) throw new SearchError(`Unsupported operator: ${String(f.operator)}`);
  const kind = kindOf(data, type, f.propertyName);
  const get = getter(data, type, f.propertyName, kind);
  switch (f.operator) {
    case 'HAS_PROPERTY': return (r) => get(r) !== null;
    case 'NOT_HAS_PROPERTY': return (r) => get(r) === null;
    case 'EQ': { const x = operand(kind, f.value, f); return (r) => get(r) === x; }
    case 'NEQ': { const x = operand(kind, f.value, f); return (r) => get(r) !== x; }
    case 'LT': { const x = operand(kind, f.value, f); return (r) => { const v = get(r); return v !== null && v < x; }; }
    case 'LTE': { const x = operand(kind, f.value, f); return (r) => { const v = get(r); return v !== null && v <= x; }; }
    case 'GT': { const x = operand(kind, f.value, f); return (r) => { const v = get(r); return v !== null && v > x; }; }
    case 'GTE': { const x = operand(kind, f.value, f); return (r) => { const v = get(r); return v !== null && v >= x; }; }
    case 'BETWEEN': {
      const lo = operand(kind, f.value, f);
      const hi = operand(kind, f.highValue, f);
      return (r) => { const v = get(r); return v !== null && v >= lo && v <= hi; };
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(f.values)) throw new SearchError(`operator ${f.operator} on ${f.propertyName} needs values[]`);
      const set = new Set(f.values.map((v) => operand(kind, v, f)));
      return f.operator === 'IN' ? (r) => { const v = get(r); return v !== null && set.has(v); } : (r) => { const v = get(r); return v === null || !set.has(v); };
    }
    default: {
      const match = tokenMatcher(String(operand('string', f.value, f)));
      const has = (r: StoredObject): boolean => { const v = get(r); return v !== null && match(String(v)); };
      return f.operator === 'CONTAINS_TOKEN' ? has : (r) => !has(r);
    }
  }
}

export function parseSorts(sorts: unknown): SearchSort[] {
  if (sorts === undefined || sorts === null) return [];
  if (!Array.isArray(sorts)) throw new SearchError('sorts must be an array');
  return sorts.map((s): SearchSort => {
    if (typeof s === 'string') {
      return s.startsWith('-') ? { propertyName: s.slice(1), direction: 'DESCENDING' } : { propertyName: s, direction: 'ASCENDING' };
    }
    if (typeof s === 'object' && s !== null && typeof (s as SearchSort).propertyName === 'string') {
      const d = (s as SearchSort).direction;
      return { propertyName: (s as SearchSort).propertyName, direction: d === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING' };
    }
    throw new SearchError('each sort needs a propertyName');
  });
}

const QUERY_PROPERTIES: Readonly<Record<ObjectType, readonly string[]>> = {
  contacts: ['firstname', 'lastname', 'email', 'phone', 'company'],
  deals: ['dealname'],
};

/** All matching live ids in result order. */
export function runSearch(data: SandboxData, type: ObjectType, request: {
  filterGroups?: unknown; sorts?: unknown; query?: unknown;
}): number[] {
  const groups = request.filterGroups ?? [];
  if (!Array.isArray(groups)) throw new SearchError('filterGroups must be an array');
  if (groups.length > SEARCH_MAX_GROUPS) throw new SearchError(`Too many filter groups: ${groups.length}. The maximum is ${SEARCH_MAX_GROUPS}.`);
  let total = 0;
  const compiled = groups.map((g: unknown) => {
    const filters = (g as { filters?: unknown }).filters;
    if (!Array.isArray(filters)) throw new SearchError('each filter group needs filters[]');
    if (filters.length > SEARCH_MAX_FILTERS_PER_GROUP) throw new SearchError(`Too many filters in a group: ${filters.length}. The maximum is ${SEARCH_MAX_FILTERS_PER_GROUP}.`);
    total += filters.length;
    return filters.map((f) => compileFilter(data, type, f as SearchFilter));
  });
  if (total > SEARCH_MAX_FILTERS) throw new SearchError(`Too many filters: ${total}. The maximum is ${SEARCH_MAX_FILTERS}.`);
  const q = typeof request.query === 'string' && request.query.trim() !== '' ? request.query.trim().toLowerCase() : null;
  const sorts = parseSorts(request.sorts);

  const c = data.collection(type);
  const only = groups.length === 1 ? (groups[0] as { filters: SearchFilter[] }).filters : null;
  // Candidates from an index when the one group bounds the id or the last-modified time; ascending ids
  // from the id range, time order from the other.
  const byId = only ? narrowById(c.activeIds, only) : null;
  const narrowed = byId ?? (only ? narrowByModified(data, type, only) : null);
  // The id range IS the whole query (the full sync's lanes): the candidates are the answer as they are.
  const exact = byId !== null && q === null && only!.every(isIdBound);
  const out: number[] = exact ? byId : [];
  if (!exact) for (const id of narrowed ?? c.activeIds) {
    const r = c.byId.get(id)!;
    if (compiled.length > 0 && !compiled.some((fs) => fs.every((f) => f(r)))) continue;
    if (q !== null && !QUERY_PROPERTIES[type].some((p) => (r.properties[p] ?? '').toLowerCase().includes(q))) continue;
    out.push(id);
  }
  const sort = sorts[0];
  if (!sort && narrowed && !byId) out.sort((a, b) => a - b);
  if (sort?.propertyName === ID_PROPERTY) {
    // hs_object_id is the id: ascending ids are already in order (every candidate list is).
    if (narrowed && !byId) out.sort((a, b) => a - b);
    if (sort.direction === 'DESCENDING') out.reverse();
  } else if (sort) {
    const kind = kindOf(data, type, sort.propertyName);
    const get = getter(data, type, sort.propertyName, kind);
    const keys = new Map<number, number | string | null>();
    for (const id of out) keys.set(id, get(c.byId.get(id)!));
    const sign = sort.direction === 'DESCENDING' ? -1 : 1;
    out.sort((a, b) => {
      const ka = keys.get(a) ?? null;
      const kb = keys.get(b) ?? null;
      // Records without the value sort last in either direction.
      if (ka === null || kb === null) return ka === kb ? a - b : ka === null ? 1 : -1;
      if (ka < kb) return -sign;
      if (ka > kb) return sign;
      return a - b;
    });
  }
  return out;
}

/** Live ids sorted by (last-modified time, id), with the times alongside, for range filters. */
interface ModifiedIndex {
  version: number;
  ids: number[];
  times: Float64Array;
}

const modifiedIndexes = new WeakMap<SandboxData, Partial<Record<ObjectType, ModifiedIndex>>>();

function modifiedIndex(data: SandboxData, type: ObjectType): ModifiedIndex {
  let perData = modifiedIndexes.get(data);
  if (!perData) modifiedIndexes.set(data, (perData = {}));
  const cached = perData[type];
  if (cached && cached.version === data.typeVersion[type]) return cached;
  const c = data.collection(type);
  const live = c.activeIds;
  // Sort positions over a typed array of times (no map lookups in the comparator); positions follow
  // ascending ids, so ties break by id.
  const at = new Float64Array(live.length);
  for (let i = 0; i < live.length; i++) at[i] = c.byId.get(live[i]!)!.updatedAt;
  const order = new Uint32Array(live.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => at[a]! - at[b]! || a - b);
  const ids = new Array<number>(live.length);
  const times = new Float64Array(live.length);
  for (let i = 0; i < order.length; i++) {
    ids[i] = live[order[i]!]!;
    times[i] = at[order[i]!]!;
  }
  const index = { version: data.typeVersion[type], ids, times };
  perData[type] = index;
  return index;
}

function firstAtLeast(times: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const ID_PROPERTY = 'hs_object_id';
const RANGE_OPERATORS = new Set(['GTE', 'GT', 'LTE', 'LT', 'EQ', 'BETWEEN']);
const finiteNumber = (value: unknown): boolean => value !== undefined && value !== null && String(value).trim() !== '' && Number.isFinite(Number(value));

/** A filter that `narrowById` takes into its range in full (so the range alone answers it). */
function isIdBound(f: SearchFilter): boolean {
  return f.propertyName === ID_PROPERTY && RANGE_OPERATORS.has(f.operator) && finiteNumber(f.value) && (f.operator !== 'BETWEEN' || finiteNumber(f.highValue));
}

/**
 * The closed range [lo, hi] a single filter group's conditions on one integer-valued property (ids, epoch
 * ms) allow, `parse` reading a filter value (NaN when unusable); null when the group does not bound it.
 */
function boundsOf(filters: SearchFilter[], property: string, parse: (value: unknown) => number): { lo: number; hi: number } | null {
  let lo = -Infinity;
  let hi = Infinity;
  let bounded = false;
  for (const f of filters) {
    if (f.propertyName !== property) continue;
    const v = f.value === undefined || f.value === null ? NaN : parse(f.value);
    const h = f.highValue === undefined || f.highValue === null ? NaN : parse(f.highValue);
    if (!Number.isFinite(v)) continue;
    switch (f.operator) {
      case 'GTE': lo = Math.max(lo, v); break;
      case 'GT': lo = Math.max(lo, Math.floor(v) + 1); break;
      case 'LTE': hi = Math.min(hi, v); break;
      case 'LT': hi = Math.min(hi, Math.ceil(v) - 1); break;
      case 'EQ': lo = Math.max(lo, v); hi = Math.min(hi, v); break;
      case 'BETWEEN': if (Number.isFinite(h)) { lo = Math.max(lo, v); hi = Math.min(hi, h); } break;
      default: continue;
    }
    bounded = true;
  }
  return bounded ? { lo, hi } : null;
}

/**
 * The candidates of a single filter group that bounds hs_object_id (the full sync's lanes read id ranges):
 * a binary search on the ascending live ids. Null when the group does not bound it by number.
 */
function narrowById(activeIds: readonly number[], filters: SearchFilter[]): number[] | null {
  const range = boundsOf(filters, ID_PROPERTY, (value) => (finiteNumber(value) ? Number(value) : NaN));
  if (!range) return null;
  if (range.lo > range.hi) return [];
  return activeIds.slice(firstAtLeast(activeIds, range.lo), firstAtLeast(activeIds, Math.floor(range.hi) + 1));
}

/**
 * The candidates of a single filter group that bounds the last-modified property (the incremental sync's
 * GTE/LT windows): a binary search on a time-sorted index instead of a scan of every record. The caller
 * still applies every filter to the candidates. Null when the group does not bound that property.
 */
function narrowByModified(data: SandboxData, type: ObjectType, filters: SearchFilter[]): number[] | null {
  const range = boundsOf(filters, LAST_MODIFIED[type], (value) => parseTime(String(value)));
  if (!range) return null;
  if (range.lo > range.hi) return [];
  const index = modifiedIndex(data, type);
  return index.ids.slice(firstAtLeast(index.times, range.lo), firstAtLeast(index.times, Math.floor(range.hi) + 1));
}
