/**
 * Naming segments from what their centres look like, never from cluster index order (METHOD.md section 3).
 *
 * Each centre is turned into a z-profile (centre minus the column mean, over the column's population
 * standard deviation, whatever scaler clustered). Every (segment, archetype) pair gets a score in -1..1 for
 * how well the profile matches the archetype's signature:
 *   loyal:      frequency high, satisfaction high, distance low, order amount low (recency low, half weight)
 *   profitable: order amount high, distance low (frequency middling, total spend high: half weight)
 *   risky:      distance high, satisfaction low, frequency low (recency high, total spend low: half weight)
 * The half-weight RFM terms (seed `customer-classification-framework.txt`) only count when those optional
 * features are clustered, so the paper's four features give the paper's profile.
 * A feature scores clamp(z, -1, 1) when it should be high, clamp(-z, -1, 1) when low and 1 - min(|z|, 2)
 * when middling; the score is the weighted mean over the signature features that were clustered (an
 * archetype needs at least two of them). Archetypes go to segments by the one-to-one matching with the
 * highest total score, using only pairs scoring at least MIN_ARCHETYPE_SCORE; the other segments are named
 * by their most distinguishing features ("Frequent, near", id `frequent_near`).
 * With a previous model, segments whose centre lies within one standard deviation of a previous centre
 * (after an optimal matching of centres in the previous model's standardised space) keep that segment's id,
 * archetype, label and colour, so a re-fit does not rename what customers see.
 */
import { matchCentroids } from './cluster/agreement.js';
import { ARCHETYPES } from './strategy.js';
import type { Archetype, Model } from './types.js';
import { NO_RECENT_ORDERS } from './types.js';

/** Minimum signature score for a segment to carry an archetype's name. */
export const MIN_ARCHETYPE_SCORE = 0.3;
/** Largest distance (in standard deviations of the new data) at which a re-fitted segment keeps its old name. */
export const KEEP_NAME_DISTANCE = 1;

/** Fixed colours per archetype (Okabe-Ito, distinguishable with common colour-vision deficiencies). */
export const ARCHETYPE_COLORS: Readonly<Record<Archetype, string>> = {
  loyal: '#009E73',
  profitable: '#0072B2',
  risky: '#D55E00',
};
/** Colours for descriptive segments, in order of first appearance (Okabe-Ito, then Paul Tol's muted set). */
export const SEGMENT_PALETTE: readonly string[] = [
  '#E69F00',
  '#CC79A7',
  '#56B4E9',
  '#882255',
  '#117733',
  '#332288',
  '#999933',
  '#AA4499',
  '#44AA99',
  '#661100',
];
export const NO_RECENT_ORDERS_COLOR = '#767676';

const LABELS: Readonly<Record<Archetype, string>> = {
  loyal: 'Loyal regulars',
  profitable: 'Profitable, large orders',
  risky: 'Risky, low prospect',
};

type Want = 'high' | 'low' | 'mid';
interface SignatureTerm {
  feature: string;
  want: Want;
  weight: number;
}

export const SIGNATURES: Readonly<Record<Archetype, readonly SignatureTerm[]>> = {
  loyal: [
    { feature: 'purchase_frequency', want: 'high', weight: 1 },
    { feature: 'satisfaction', want: 'high', weight: 1 },
    { feature: 'distance_km', want: 'low', weight: 1 },
    { feature: 'avg_order_amount', want: 'low', weight: 1 },
    { feature: 'recency_days', want: 'low', weight: 0.5 },
  ],
  profitable: [
    { feature: 'avg_order_amount', want: 'high', weight: 1 },
    { feature: 'distance_km', want: 'low', weight: 1 },
    { feature: 'purchase_frequency', want: 'mid', weight: 0.5 },
    { feature: 'monetary_total', want: 'high', weight: 0.5 },
  ],
  risky: [
    { feature: 'distance_km', want: 'high', weight: 1 },
    { feature: 'satisfaction', want: 'low', weight: 1 },
    { feature: 'purchase_frequency', want: 'low', weight: 1 },
    { feature: 'recency_days', want: 'high', weight: 0.5 },
    { feature: 'monetary_total', want: 'low', weight: 0.5 },
  ],
};

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function termScore(z: number, want: Want): number {
  if (want === 'high') return clamp(z, -1, 1);
  if (want === 'low') return clamp(-z, -1, 1);
  return 1 - Math.min(Math.abs(z), 2);
}

/**
 * Signature score of a z-profile for one archetype, or null when fewer than `minFeatures` (default two) of
 * its signature features are present.
 */
export function archetypeScore(profile: Readonly<Record<string, number>>, archetype: Archetype, minFeatures = 2): number | null {
  let sum = 0;
  let weight = 0;
  let present = 0;
  for (const term of SIGNATURES[archetype]) {
    const z = profile[term.feature];
    if (z === undefined || !Number.isFinite(z)) continue;
    sum += term.weight * termScore(z, term.want);
    weight += term.weight;
    present++;
  }
  return present >= minFeatures && present > 0 ? sum / weight : null;
}

/**
 * The one-to-one archetype matching with the highest total score over pairs scoring at least `minScore`.
 * `scores[s][a]` is segment s's score for ARCHETYPES[a] (null = not eligible). Returns segment -> archetype or null.
 * Exhaustive over (k + 1)^3 choices, so exact; ties keep the first found (lower segment indices).
 */
export function matchArchetypes(
  scores: readonly (readonly (number | null)[])[],
  minScore = MIN_ARCHETYPE_SCORE,
  available: readonly Archetype[] = ARCHETYPES,
): (Archetype | null)[] {
  const k = scores.length;
  const arch = ARCHETYPES.map((a, i) => ({ a, i })).filter((x) => available.includes(x.a));
  let best = -Infinity;
  let bestPick: number[] = arch.map(() => -1);
  const pick: number[] = arch.map(() => -1);
  const used = new Uint8Array(k);
  const search = (t: number, total: number): void => {
    if (t === arch.length) {
      if (total > best + 1e-12) {
        best = total;
        bestPick = [...pick];
      }
      return;
    }
    for (let s = -1; s < k; s++) {
      if (s >= 0) {
        const v = scores[s]![arch[t]!.i];
        if (used[s] || v === null || v === undefined || v < minScore) continue;
        used[s] = 1;
        pick[t] = s;
        search(t + 1, total + v);
        used[s] = 0;
      } else {
        pick[t] = -1;
        search(t + 1, total);
      }
    }
  };
  search(0, 0);
  const result: (Archetype | null)[] = new Array<Archetype | null>(k).fill(null);
  bestPick.forEach((s, t) => {
    if (s >= 0) result[s] = arch[t]!.a;
  });
  return result;
}

const WORDS: Readonly<Record<string, { high: [string, string]; low: [string, string] }>> = {
  purchase_frequency: { high: ['frequent', 'frequent'], low: ['infrequent', 'infrequent'] },
  avg_order_amount: { high: ['large orders', 'large_orders'], low: ['small orders', 'small_orders'] },
  distance_km: { high: ['far', 'far'], low: ['near', 'near'] },
  satisfaction: { high: ['satisfied', 'satisfied'], low: ['dissatisfied', 'dissatisfied'] },
  recency_days: { high: ['lapsing', 'lapsing'], low: ['recent', 'recent'] },
  monetary_total: { high: ['high spend', 'high_spend'], low: ['low spend', 'low_spend'] },
};

function slugPart(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'feature';
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Features ordered by how far the centre is from the mean (|z| descending, ties in feature order). */
function distinguishing(features: readonly string[], z: readonly number[]): number[] {
  return features
    .map((_, j) => j)
    .sort((a, b) => Math.abs(z[b]!) - Math.abs(z[a]!) || a - b);
}

/** A descriptive label and slug from the (up to `parts`, default two) most distinguishing features with |z| >= 0.5. */
export function describeProfile(features: readonly string[], z: readonly number[], parts = 2): { label: string; slug: string } {
  return describeParts(features, z, parts);
}

function describeParts(features: readonly string[], z: readonly number[], count: number): { label: string; slug: string } {
  const parts = distinguishing(features, z)
    .filter((j) => Math.abs(z[j]!) >= 0.5)
    .slice(0, count)
    .map((j) => {
      const f = features[j]!;
      const dir = z[j]! > 0 ? 'high' : 'low';
      const words = WORDS[f]?.[dir] ?? [`${dir} ${f}`, `${dir}_${slugPart(f)}`];
      return words;
    });
  if (parts.length === 0) return { label: 'Average profile', slug: 'average' };
  return {
    label: capitalise(parts.map((p) => p[0]).join(', ')),
    slug: parts.map((p) => p[1]).join('_'),
  };
}

/** A number with precision that suits its size: 352, 40.3, 4.31. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

function ratio(v: number, mean: number): string {
  return `${(v / mean).toFixed(1)}x the average`;
}

function clause(feature: string, v: number, mean: number): string {
  const hasRatio = mean > 0 && Number.isFinite(mean);
  switch (feature) {
    case 'purchase_frequency':
      return hasRatio ? `orders ${ratio(v, mean)} (${formatNumber(v)} orders)` : `${formatNumber(v)} orders`;
    case 'avg_order_amount':
      return `average order ${formatNumber(v)}` + (hasRatio ? ` (${ratio(v, mean)})` : '');
    case 'distance_km':
      return `${v.toFixed(0)} km from the warehouse`;
    case 'satisfaction':
      return `satisfaction ${v.toFixed(1)}/5`;
    case 'recency_days':
      return `last order ${v.toFixed(0)} days ago`;
    case 'monetary_total':
      return `total spend ${formatNumber(v)}` + (hasRatio ? ` (${ratio(v, mean)})` : '');
    default:
      return `${feature} ${formatNumber(v)} (average ${formatNumber(mean)})`;
  }
}

/** One sentence with numbers: "Orders 3.1x the average (67 orders); 23 km from the warehouse; satisfaction 4.3/5." */
export function whySentence(features: readonly string[], centre: readonly number[], mean: readonly number[], z: readonly number[]): string {
  const parts = distinguishing(features, z)
    .slice(0, 4)
    .map((j) => clause(features[j]!, centre[j]!, mean[j]!));
  return capitalise(parts.join('; ')) + '.';
}

export interface NamingInput {
  features: readonly string[];
  /** k x d centres in original units, row-major. */
  centroids: Float64Array;
  k: number;
  sizes: ArrayLike<number>;
  /** Column means and population standard deviations of the clustered rows (original units). */
  mean: ArrayLike<number>;
  sd: ArrayLike<number>;
  previous?: Model;
}

export interface SegmentName {
  /** Cluster index this name belongs to. */
  cluster: number;
  id: string;
  archetype: Archetype | null;
  label: string;
  why: string;
  color: string;
  /** The archetype whose strategy applies: its own, else the best-scoring one (loyal when none can be scored). */
  basis: Archetype;
  /** Signature score per archetype (null when not enough signature features were clustered). */
  scores: Record<Archetype, number | null>;
  /** True when id, label and colour were kept from the previous model. */
  kept: boolean;
}

function zProfile(input: NamingInput, c: number): number[] {
  const d = input.features.length;
  const z: number[] = [];
  for (let j = 0; j < d; j++) {
    const sd = input.sd[j]!;
    const diff = input.centroids[c * d + j]! - input.mean[j]!;
    z.push(sd > 0 ? diff / sd : 0);
  }
  return z;
}

/** Which new segments keep which previous segment: new cluster index -> previous segment index. */
function keepFromPrevious(input: NamingInput, zs: number[][]): Map<number, number> {
  const kept = new Map<number, number>();
  const prev = input.previous;
  if (!prev) return kept;
  const d = input.features.length;
  if (prev.features.length !== d || prev.features.some((f, j) => f !== input.features[j])) return kept;
  const kPrev = prev.centroids.length;
  const prevFlat = new Float64Array(kPrev * d);
  prev.centroids.forEach((row, p) => prevFlat.set(row.slice(0, d), p * d));
  const nextFlat = new Float64Array(input.k * d);
  for (let c = 0; c < input.k; c++) {
    for (let j = 0; j < d; j++) {
      nextFlat[c * d + j] = (input.centroids[c * d + j]! - prev.scaler.offset[j]!) / prev.scaler.scale[j]!;
    }
  }
  const match = matchCentroids(prevFlat, nextFlat, kPrev, input.k, d);
  for (let c = 0; c < input.k; c++) {
    const p = match[c]!;
    if (p < 0 || !prev.segments[p]) continue;
    // Closeness is judged in the new data's standard deviations, whatever scaler either model used.
    let sq = 0;
    for (let j = 0; j < d; j++) {
      const orig = prevFlat[p * d + j]! * prev.scaler.scale[j]! + prev.scaler.offset[j]!;
      const sd = input.sd[j]!;
      const zPrev = sd > 0 ? (orig - input.mean[j]!) / sd : 0;
      const t = zPrev - zs[c]![j]!;
      sq += t * t;
    }
    if (Math.sqrt(sq) <= KEEP_NAME_DISTANCE) kept.set(c, p);
  }
  return kept;
}

/**
 * Names every segment; returns them in display order: archetypes by priority (loyal, profitable, risky),
 * then the others by size (largest first). Ids are unique and never `no_recent_orders`.
 */
export function nameSegments(input: NamingInput): SegmentName[] {
  const { features, k } = input;
  const zs = Array.from({ length: k }, (_, c) => zProfile(input, c));
  const profiles = zs.map((z) => Object.fromEntries(features.map((f, j) => [f, z[j]!])));
  const scores = profiles.map((p) => ARCHETYPES.map((a) => archetypeScore(p, a)));
  const kept = keepFromPrevious(input, zs);
  const prevSegments = input.previous?.segments ?? [];

  const keptArchetypes = new Set<Archetype>();
  for (const p of kept.values()) {
    const a = prevSegments[p]!.archetype;
    if (a) keptArchetypes.add(a);
  }
  const free = ARCHETYPES.filter((a) => !keptArchetypes.has(a));
  const freeScores = scores.map((row, c) => (kept.has(c) ? row.map(() => null) : row));
  const matched = matchArchetypes(freeScores, MIN_ARCHETYPE_SCORE, free);

  const names: SegmentName[] = [];
  const usedIds = new Set<string>([NO_RECENT_ORDERS, ...matched.filter((a): a is Archetype => a !== null)]);
  for (const p of kept.values()) usedIds.add(prevSegments[p]!.id);
  for (let c = 0; c < k; c++) {
    const z = zs[c]!;
    const centre = Array.from(input.centroids.subarray(c * features.length, (c + 1) * features.length));
    const row = scores[c]!;
    // The strategy of a descriptive segment follows the best-matching archetype, judged on whatever
    // signature features were clustered (one is enough here); with none at all, the first (loyal).
    const loose = ARCHETYPES.map((a) => archetypeScore(profiles[c]!, a, 1) ?? -Infinity);
    let basisIndex = 0;
    loose.forEach((v, a) => {
      if (v > loose[basisIndex]!) basisIndex = a;
    });
    const scoreRecord = Object.fromEntries(ARCHETYPES.map((a, i) => [a, row[i] ?? null])) as Record<Archetype, number | null>;
    const sentence = whySentence(features, centre, Array.from(input.mean), z);
    const p = kept.get(c);
    if (p !== undefined) {
      const prevSeg = prevSegments[p]!;
      names.push({
        cluster: c,
        id: prevSeg.id,
        archetype: prevSeg.archetype,
        label: prevSeg.label,
        why: sentence,
        color: prevSeg.color,
        basis: prevSeg.archetype ?? ARCHETYPES[basisIndex]!,
        scores: scoreRecord,
        kept: true,
      });
      continue;
    }
    const archetype = matched[c] ?? null;
    const desc = archetype ? null : describeProfile(features, z);
    names.push({
      cluster: c,
      // Descriptive ids are settled below, in display order, so the largest segment gets the plain slug.
      id: archetype ?? desc!.slug,
      archetype,
      label: archetype ? LABELS[archetype] : desc!.label,
      why: sentence,
      color: archetype ? ARCHETYPE_COLORS[archetype] : '',
      basis: archetype ?? ARCHETYPES[basisIndex]!,
      scores: scoreRecord,
      kept: false,
    });
  }

  // Two descriptive segments built from the same features ("Small orders, frequent" / "Frequent, small
  // orders") would read as one: describe each of them with more features until their sets differ.
  for (let count = 3; count <= features.length; count++) {
    const bySet = new Map<string, SegmentName[]>();
    for (const name of names) {
      if (name.kept || name.archetype) continue;
      const set = name.id.split('_').sort().join(' ');
      bySet.set(set, [...(bySet.get(set) ?? []), name]);
    }
    // Identical descriptions are told apart by a numeric suffix below; only reordered ones get more words.
    const clashes = [...bySet.values()].filter((group) => new Set(group.map((n) => n.id)).size > 1).flat();
    if (clashes.length === 0) break;
    for (const name of clashes) {
      const desc = describeProfile(features, zs[name.cluster]!, count);
      name.id = desc.slug;
      name.label = desc.label;
    }
  }

  const rank = (n: SegmentName): number => (n.archetype ? ARCHETYPES.indexOf(n.archetype) : ARCHETYPES.length);
  names.sort((a, b) => rank(a) - rank(b) || input.sizes[b.cluster]! - input.sizes[a.cluster]! || a.cluster - b.cluster);
  for (const name of names) {
    if (name.kept || name.archetype) continue;
    const slug = name.id;
    let id = slug;
    for (let suffix = 2; usedIds.has(id) || (ARCHETYPES as readonly string[]).includes(id); suffix++) id = `${slug}_${suffix}`;
    name.id = id;
    usedIds.add(id);
  }

  const usedColors = new Set(names.map((n) => n.color).filter((c) => c !== ''));
  let next = 0;
  for (const name of names) {
    if (name.color !== '') continue;
    while (next < SEGMENT_PALETTE.length && usedColors.has(SEGMENT_PALETTE[next]!)) next++;
    name.color = next < SEGMENT_PALETTE.length ? SEGMENT_PALETTE[next]! : hslHex((next * 137) % 360, 0.55, 0.4);
    usedColors.add(name.color);
    next++;
  }
  return names;
}

/** `#rrggbb` of an HSL colour (models carry hex colours only; see parseModel). */
export function hslHex(hue: number, saturation: number, lightness: number): string {
  const a = saturation * Math.min(lightness, 1 - lightness);
  const channel = (n: number): string => {
    const k = (n + hue / 30) % 12;
    const v = lightness - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(v * 255).toString(16).padStart(2, '0');
  };
  return `#${channel(0)}${channel(8)}${channel(4)}`;
}
