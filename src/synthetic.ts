/**
 * Synthetic customers drawn around the paper's three published cluster centres (METHOD.md section 3),
 * for tests, benchmarks and the demo. Deterministic: the same `n` and `seed` give the same table.
 */
import { createRng, normal, permutation } from './random.js';
import type { Rng } from './random.js';
import { ALL_FEATURES } from './types.js';
import type { Archetype, FeatureTable } from './types.js';

/** One of the paper's clusters: its share of the 100 customers and its final centre (Fig. 2). */
export interface PaperCluster {
  archetype: Archetype;
  share: number;
  purchase_frequency: number;
  avg_order_amount: number;
  distance_km: number;
  satisfaction: number;
}

/** The published centres (frequency, avg order $, distance km, satisfaction 1–5) and sizes of 100. */
export const PAPER_CLUSTERS: readonly PaperCluster[] = [
  { archetype: 'loyal', share: 0.54, purchase_frequency: 66.96, avg_order_amount: 17.06, distance_km: 23.19, satisfaction: 4.31 },
  { archetype: 'profitable', share: 0.35, purchase_frequency: 29.2, avg_order_amount: 351.64, distance_km: 40.26, satisfaction: 3.29 },
  { archetype: 'risky', share: 0.11, purchase_frequency: 10.0, avg_order_amount: 67.66, distance_km: 328.55, satisfaction: 1.55 },
];

export interface PaperTableOptions {
  n: number;
  seed: number;
  /** Standard deviation as a fraction of each centre coordinate. Default 0.12. */
  noise?: number;
}

export interface PaperTable {
  table: FeatureTable;
  /** Ground-truth archetype per row, same order as `table.ids`. */
  truth: Archetype[];
}

/**
 * Cluster sizes proportional to the paper's shares, by largest remainder so they sum to exactly `n`
 * (ties go to the larger cluster, so n = 100 gives 54 / 35 / 11).
 */
export function paperSizes(n: number): number[] {
  const raw = PAPER_CLUSTERS.map((c) => c.share * n);
  const sizes = raw.map((r) => Math.floor(r + 1e-9));
  let left = n - sizes.reduce((a, b) => a + b, 0);
  const order = raw
    .map((r, i) => ({ i, frac: r - Math.floor(r + 1e-9) }))
    .sort((a, b) => b.frac - a.frac || a.i - b.i);
  for (let o = 0; left > 0; o = (o + 1) % order.length, left--) sizes[order[o]!.i]! += 1;
  return sizes;
}

/** Zero-padded customer ids: c001..c100, so they sort in row order. */
function makeId(i: number, n: number): string {
  return 'c' + String(i + 1).padStart(String(n).length, '0');
}

function drawRow(rng: Rng, c: PaperCluster, noise: number): number[] {
  const frequency = Math.max(1, Math.round(normal(rng, c.purchase_frequency, c.purchase_frequency * noise)));
  const avgOrder = Math.max(0.01, Math.round(normal(rng, c.avg_order_amount, c.avg_order_amount * noise) * 100) / 100);
  const distance = Math.max(1, Math.round(normal(rng, c.distance_km, c.distance_km * noise) * 10) / 10);
  const satRaw = normal(rng, c.satisfaction, c.satisfaction * noise);
  const satisfaction = Math.min(5, Math.max(1, Math.round(satRaw * 10) / 10));
  // Orders spread over a 365-day window: the last one is on average 365 / (frequency + 1) days ago.
  const recency = Math.min(364, Math.floor(rng() * 2 * (365 / (frequency + 1))));
  const monetary = Math.round(frequency * avgOrder * 100) / 100;
  return [frequency, avgOrder, distance, satisfaction, recency, monetary];
}

/**
 * A FeatureTable (columns ALL_FEATURES) of `n` customers drawn around the paper's centres, rows shuffled,
 * with the archetype each row was drawn from. NPS is derived from satisfaction (inverse of 1 + nps * 0.4).
 */
export function paperTable(options: PaperTableOptions): PaperTable {
  const { n, seed } = options;
  const noise = options.noise ?? 0.12;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`paperTable: n must be a positive integer, got ${n}`);
  const rng = createRng(seed);
  const sizes = paperSizes(n);
  const labels: number[] = [];
  sizes.forEach((size, c) => {
    for (let i = 0; i < size; i++) labels.push(c);
  });
  const order = permutation(rng, n);
  const width = ALL_FEATURES.length;
  const values = new Float64Array(n * width);
  const nps = new Float64Array(n);
  const ids: string[] = new Array<string>(n);
  const truth: Archetype[] = new Array<Archetype>(n);
  for (let r = 0; r < n; r++) {
    const cluster = PAPER_CLUSTERS[labels[order[r]!]!]!;
    const row = drawRow(rng, cluster, noise);
    values.set(row, r * width);
    nps[r] = Math.min(10, Math.max(0, Math.round((row[3]! - 1) / 0.4)));
    ids[r] = makeId(r, n);
    truth[r] = cluster.archetype;
  }
  return { table: { ids, columns: [...ALL_FEATURES], values, nps }, truth };
}

/** The same customers as CSV text: header `id,purchase_frequency,...,monetary_total,nps`, LF line ends. */
export function paperCsv(n: number, seed: number, noise?: number): string {
  const { table } = paperTable(noise === undefined ? { n, seed } : { n, seed, noise });
  const width = table.columns.length;
  const lines: string[] = ['id,' + table.columns.join(',') + ',nps'];
  for (let r = 0; r < table.ids.length; r++) {
    const cells: string[] = [table.ids[r]!];
    for (let j = 0; j < width; j++) cells.push(String(table.values[r * width + j]));
    cells.push(String(table.nps![r]));
    lines.push(cells.join(','));
  }
  return lines.join('\n') + '\n';
}
