/**
 * Applying a fitted model to customers (new, changed, or the training data again): the same
 * no-recent-orders and rejection policy as `fit` (prepare.ts), missing values imputed with the model's
 * stored medians, the model's scaler, then the nearest centre (METHOD.md section 2.5). For a k-means model
 * this reproduces `fit`'s labels on the training rows; a Ward model's training labels come from the tree,
 * so a few rows near a boundary may differ.
 *
 * `parseModel` is the boundary for models read from files, HTTP bodies or IndexedDB: it checks the shape
 * and version and throws a ModelError naming the offending path ("model.segments[2].id: ...").
 */
import { nearestCentroid } from './cluster/nearest.js';
import { prepare } from './prepare.js';
import { applyScaler } from './scaler.js';
import { isArchetype, TECHNOLOGY_KEYS } from './strategy.js';
import { MODEL_VERSION, NO_RECENT_ORDERS } from './types.js';
import type { Assignment, FeatureTable, Model, RejectedRow } from './types.js';

export interface AssignReport {
  /** One per table row that was not rejected, in table order. */
  assignments: Assignment[];
  rejected: RejectedRow[];
  noRecentOrders: number;
  imputed: number;
}

/** Assigns every usable row of `table` to a segment of `model`, with what was rejected and why. */
export function assignWithReport(model: Model, table: FeatureTable): AssignReport {
  const prep = prepare(table, model.features, { imputation: model.imputation, allowEmpty: true });
  const { n, d } = prep;
  const k = model.centroids.length;
  const C = new Float64Array(k * d);
  model.centroids.forEach((row, s) => C.set(row, s * d));
  const Z = applyScaler(model.scaler, prep.X, n, d);
  const { labels, distances } = nearestCentroid(Z, n, d, C, k);
  const at = new Int32Array(table.ids.length).fill(-1);
  for (let i = 0; i < n; i++) at[prep.rows[i]!] = i;
  const noRecent = new Uint8Array(table.ids.length);
  for (const r of prep.noRecentOrders) noRecent[r] = 1;
  const assignments: Assignment[] = [];
  let imputed = 0;
  for (let r = 0; r < table.ids.length; r++) {
    const i = at[r]!;
    if (i >= 0) {
      const flag = prep.imputed[i] === 1;
      if (flag) imputed++;
      assignments.push({ id: table.ids[r]!, segment: model.segments[labels[i]!]!.id, distance: Math.sqrt(distances[i]!), imputed: flag });
    } else if (noRecent[r]) {
      assignments.push({ id: table.ids[r]!, segment: NO_RECENT_ORDERS, distance: NaN, imputed: false });
    }
  }
  return { assignments, rejected: prep.rejected, noRecentOrders: prep.noRecentOrders.length, imputed };
}

/** Assigns every usable row of `table` to a segment of `model` (rejected rows are left out). */
export function assign(model: Model, table: FeatureTable): Assignment[] {
  return assignWithReport(model, table).assignments;
}

/** A model that fails validation; `path` names the offending field. */
export class ModelError extends Error {
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'ModelError';
    this.path = path;
  }
}

type Obj = Record<string, unknown>;

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelError(path, `expected an object, got ${describeValue(v)}`);
  return v as Obj;
}

function arr(v: unknown, path: string, length?: number): unknown[] {
  if (!Array.isArray(v)) throw new ModelError(path, `expected an array, got ${describeValue(v)}`);
  if (length !== undefined && v.length !== length) throw new ModelError(path, `expected ${length} entries, got ${v.length}`);
  return v;
}

function str(v: unknown, path: string, nonEmpty = true): string {
  if (typeof v !== 'string' || (nonEmpty && v === '')) {
    throw new ModelError(path, `expected a ${nonEmpty ? 'non-empty ' : ''}string, got ${describeValue(v)}`);
  }
  return v;
}

function num(v: unknown, path: string, check?: (x: number) => boolean, expected = 'a finite number'): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (check && !check(v))) throw new ModelError(path, `expected ${expected}, got ${describeValue(v)}`);
  return v;
}

function numbers(v: unknown, path: string, length: number, check?: (x: number) => boolean, expected?: string): number[] {
  return arr(v, path, length).map((x, i) => num(x, `${path}[${i}]`, check, expected));
}

function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new ModelError(path, `expected one of ${allowed.join(', ')}, got ${describeValue(v)}`);
  }
  return v as T;
}

const isInt = (x: number): boolean => Number.isInteger(x);
const nonNegInt = (x: number): boolean => Number.isInteger(x) && x >= 0;

/**
 * Validates a model read from outside (a parsed JSON value, or JSON text) and returns it typed.
 * Throws ModelError with the path and what was expected.
 */
export function parseModel(json: unknown): Model {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json) as unknown;
    } catch (e) {
      throw new ModelError('model', `not valid JSON (${(e as Error).message})`);
    }
  }
  const m = obj(value, 'model');
  if (m.kind !== 'smart-segments-model') throw new ModelError('model.kind', `expected "smart-segments-model", got ${describeValue(m.kind)}`);
  if (m.version !== MODEL_VERSION) {
    throw new ModelError('model.version', `unsupported model version ${describeValue(m.version)}; this build reads version ${MODEL_VERSION}`);
  }
  str(m.createdAt, 'model.createdAt');
  oneOf(m.method, 'model.method', ['kmeans', 'ward']);
  const k = num(m.k, 'model.k', (x) => isInt(x) && x >= 1, 'a positive integer');
  num(m.seed, 'model.seed');
  const features = arr(m.features, 'model.features').map((f, i) => str(f, `model.features[${i}]`));
  if (features.length === 0) throw new ModelError('model.features', 'expected at least one feature');
  const dup = features.find((f, i) => features.indexOf(f) !== i);
  if (dup !== undefined) throw new ModelError('model.features', `feature "${dup}" appears twice`);
  const d = features.length;

  const scaler = obj(m.scaler, 'model.scaler');
  oneOf(scaler.kind, 'model.scaler.kind', ['zscore', 'minmax']);
  numbers(scaler.offset, 'model.scaler.offset', d);
  numbers(scaler.scale, 'model.scaler.scale', d, (x) => x > 0, 'a positive number');

  const imputation = obj(m.imputation, 'model.imputation');
  for (const f of features) num(imputation[f], `model.imputation.${f}`);

  const centroids = arr(m.centroids, 'model.centroids', k);
  centroids.forEach((row, s) => numbers(row, `model.centroids[${s}]`, d));

  const segments = arr(m.segments, 'model.segments', k);
  const ids = new Set<string>();
  segments.forEach((raw, s) => {
    const p = `model.segments[${s}]`;
    const seg = obj(raw, p);
    const id = str(seg.id, `${p}.id`);
    if (id === NO_RECENT_ORDERS) throw new ModelError(`${p}.id`, `"${NO_RECENT_ORDERS}" is reserved for customers with no recent orders`);
    if (ids.has(id)) throw new ModelError(`${p}.id`, `duplicate segment id "${id}"`);
    // Ids become the option values of the HubSpot enumeration property: keep them to a safe, short slug.
    if (!/^[a-z0-9_]{1,100}$/.test(id)) {
      throw new ModelError(`${p}.id`, `"${id.slice(0, 40)}" is not a segment id (lowercase letters, digits and _, at most 100)`);
    }
    ids.add(id);
    if (seg.archetype !== null && !isArchetype(seg.archetype)) {
      throw new ModelError(`${p}.archetype`, `expected loyal, profitable, risky or null, got ${describeValue(seg.archetype)}`);
    }
    const label = str(seg.label, `${p}.label`);
    if (label.length > 100) throw new ModelError(`${p}.label`, `is ${label.length} characters long (at most 100)`);
    str(seg.why, `${p}.why`, false);
    const color = str(seg.color, `${p}.color`);
    if (!/^#[0-9a-fA-F]{6}$/.test(color)) throw new ModelError(`${p}.color`, `expected a #rrggbb colour, got ${describeValue(color)}`);
    num(seg.size, `${p}.size`, nonNegInt, 'a non-negative integer');
    const centroid = obj(seg.centroid, `${p}.centroid`);
    for (const f of features) num(centroid[f], `${p}.centroid.${f}`);
    if (seg.initialCentroid !== undefined) {
      const init = obj(seg.initialCentroid, `${p}.initialCentroid`);
      for (const f of features) num(init[f], `${p}.initialCentroid.${f}`);
    }
    const strategy = obj(seg.strategy, `${p}.strategy`);
    oneOf(strategy.basis, `${p}.strategy.basis`, ['loyal', 'profitable', 'risky']);
    num(strategy.priority, `${p}.strategy.priority`, (x) => x === 1 || x === 2 || x === 3, '1, 2 or 3');
    arr(strategy.technologies, `${p}.strategy.technologies`).forEach((t, i) => oneOf(t, `${p}.strategy.technologies[${i}]`, TECHNOLOGY_KEYS));
    str(strategy.summary, `${p}.strategy.summary`, false);
    const kpis = obj(seg.kpis, `${p}.kpis`);
    for (const key of ['customers', 'customerShare', 'revenue', 'revenueShare', 'clv', 'npsResponses']) num(kpis[key], `${p}.kpis.${key}`);
    if (kpis.nps !== null) num(kpis.nps, `${p}.kpis.nps`, (x) => x >= -100 && x <= 100, 'a number in -100..100 or null');
    if (seg.rule !== undefined) {
      const rule = obj(seg.rule, `${p}.rule`);
      str(rule.text, `${p}.rule.text`);
      for (const key of ['accuracy', 'precision', 'recall', 'f1']) num(rule[key], `${p}.rule.${key}`, (x) => x >= 0 && x <= 1, 'a number in 0..1');
    }
  });

  const quality = obj(m.quality, 'model.quality');
  num(quality.silhouette, 'model.quality.silhouette', (x) => x >= -1 && x <= 1, 'a number in -1..1');
  num(quality.silhouetteSampleSize, 'model.quality.silhouetteSampleSize', nonNegInt, 'a non-negative integer');
  num(quality.inertia, 'model.quality.inertia', (x) => x >= 0, 'a non-negative number');
  num(quality.iterations, 'model.quality.iterations', nonNegInt, 'a non-negative integer');

  if (m.dendrogram !== undefined) {
    const dendro = obj(m.dendrogram, 'model.dendrogram');
    const leaves = num(dendro.leaves, 'model.dendrogram.leaves', nonNegInt, 'a non-negative integer');
    const merges = arr(dendro.merges, 'model.dendrogram.merges');
    merges.forEach((raw, i) => {
      const mp = `model.dendrogram.merges[${i}]`;
      const merge = obj(raw, mp);
      num(merge.a, `${mp}.a`, (x) => nonNegInt(x) && x < leaves + i, `a node id below ${leaves + i}`);
      num(merge.b, `${mp}.b`, (x) => nonNegInt(x) && x < leaves + i, `a node id below ${leaves + i}`);
      num(merge.height, `${mp}.height`, (x) => x >= 0, 'a non-negative number');
      num(merge.size, `${mp}.size`, (x) => isInt(x) && x >= 2, 'an integer >= 2');
    });
  }

  const data = obj(m.data, 'model.data');
  for (const key of ['rows', 'clustered', 'imputed', 'noRecentOrders']) num(data[key], `model.data.${key}`, nonNegInt, 'a non-negative integer');
  arr(data.rejected, 'model.data.rejected').forEach((raw, i) => {
    const row = obj(raw, `model.data.rejected[${i}]`);
    str(row.id, `model.data.rejected[${i}].id`, false);
    str(row.reason, `model.data.rejected[${i}].reason`);
  });
  return m as unknown as Model;
}
