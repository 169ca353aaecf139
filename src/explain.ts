/**
 * Readable rules for segments (METHOD.md section 6, seed 004): per segment a one-vs-rest decision tree of
 * depth <= 2, split by Gini impurity on thresholds in original units, rendered as text
 * ("satisfaction <= 2.1 and distance_km > 150"), with accuracy, precision, recall and F1 of the rule
 * against the cluster labels. Together the rules form a classifier (a row goes to the segment whose rule
 * fires, the purest leaf winning when several or none fire), whose confusion matrix says how well the
 * rules explain the segmentation.
 *
 * Thresholds are the "roundest" number between the two neighbouring values (150 rather than 147.35), so the
 * text is readable and still splits the training rows exactly as the midpoint would.
 * Trees learn from at most `maxSample` rows (a seeded sample); the figures are computed on every row.
 */
import { createRng, sampleIndices } from './random.js';
import type { SegmentRule } from './types.js';

export interface Condition {
  feature: string;
  op: '<=' | '>';
  threshold: number;
}

export type TreeNode =
  | { kind: 'leaf'; positives: number; negatives: number; probability: number; positive: boolean }
  | { kind: 'split'; feature: number; threshold: number; left: TreeNode; right: TreeNode };

export interface SegmentExplanation extends SegmentRule {
  /** The rule as alternatives (OR) of conjunctions (AND) of conditions. Empty list of paths: never fires. */
  paths: Condition[][];
  tree: TreeNode;
}

export interface Explanation {
  rules: SegmentExplanation[];
  /** Share of rows the rules-as-classifier puts in their own segment. */
  accuracy: number;
  /** confusion[i][j]: rows of segment i that the rules put in segment j. */
  confusion: number[][];
  /** Rows the trees learned from. */
  sampleSize: number;
}

export interface ExplainOptions {
  maxDepth?: number;
  /** Default 20000. */
  maxSample?: number;
  seed?: number;
}

/**
 * The roundest number t with lo <= t < hi (so "x <= t" keeps lo and below and sends hi and above right),
 * preferring the middle half of the gap so the cut stays near the midpoint a plain tree would use.
 */
export function roundThreshold(lo: number, hi: number): number {
  const mid = (lo + hi) / 2;
  const quarter = (hi - lo) / 4;
  for (const [a, b] of [
    [lo + quarter, hi - quarter],
    [lo, hi],
  ] as const) {
    for (let p = -6; p <= 12; p++) {
      const t = p < 0 ? Math.round(mid / 10 ** -p) * 10 ** -p : Number((Math.round(mid * 10 ** p) / 10 ** p).toFixed(p));
      if (t >= a && t <= b && t >= lo && t < hi) return t;
    }
  }
  return mid;
}

function gini(pos: number, total: number): number {
  if (total === 0) return 0;
  const p = pos / total;
  return 2 * p * (1 - p);
}

interface Sample {
  X: Float64Array;
  d: number;
  y: Uint8Array;
  sorted: Int32Array[];
}

function grow(s: Sample, member: Uint8Array, depth: number, maxDepth: number): TreeNode {
  let pos = 0;
  let total = 0;
  for (let i = 0; i < member.length; i++) {
    if (!member[i]) continue;
    total++;
    pos += s.y[i]!;
  }
  const leaf: TreeNode = { kind: 'leaf', positives: pos, negatives: total - pos, probability: total > 0 ? pos / total : 0, positive: pos * 2 > total };
  const parent = gini(pos, total);
  if (depth >= maxDepth || pos === 0 || pos === total) return leaf;
  let best = parent - 1e-12;
  let bestFeature = -1;
  let bestLo = 0;
  let bestHi = 0;
  for (let j = 0; j < s.d; j++) {
    const order = s.sorted[j]!;
    let leftPos = 0;
    let leftN = 0;
    let prev = NaN;
    for (let o = 0; o < order.length; o++) {
      const i = order[o]!;
      if (!member[i]) continue;
      const v = s.X[i * s.d + j]!;
      if (leftN > 0 && v > prev) {
        const rightN = total - leftN;
        const w = (leftN * gini(leftPos, leftN) + rightN * gini(pos - leftPos, rightN)) / total;
        if (w < best) {
          best = w;
          bestFeature = j;
          bestLo = prev;
          bestHi = v;
        }
      }
      leftN++;
      leftPos += s.y[i]!;
      prev = v;
    }
  }
  if (bestFeature < 0) return leaf;
  const threshold = roundThreshold(bestLo, bestHi);
  const left = new Uint8Array(member.length);
  const right = new Uint8Array(member.length);
  for (let i = 0; i < member.length; i++) {
    if (!member[i]) continue;
    if (s.X[i * s.d + bestFeature]! <= threshold) left[i] = 1;
    else right[i] = 1;
  }
  return {
    kind: 'split',
    feature: bestFeature,
    threshold,
    left: grow(s, left, depth + 1, maxDepth),
    right: grow(s, right, depth + 1, maxDepth),
  };
}

function leaves(node: TreeNode): Extract<TreeNode, { kind: 'leaf' }>[] {
  return node.kind === 'leaf' ? [node] : [...leaves(node.left), ...leaves(node.right)];
}

function allPositive(node: TreeNode): boolean {
  return node.kind === 'leaf' ? node.positive : allPositive(node.left) && allPositive(node.right);
}

function positivePaths(node: TreeNode, features: readonly string[], path: Condition[]): Condition[][] {
  if (allPositive(node)) return [path];
  if (node.kind === 'leaf') return [];
  const feature = features[node.feature]!;
  return [
    ...positivePaths(node.left, features, [...path, { feature, op: '<=', threshold: node.threshold }]),
    ...positivePaths(node.right, features, [...path, { feature, op: '>', threshold: node.threshold }]),
  ];
}

/** Keeps the tighter of two conditions on the same feature and side. */
function simplify(path: Condition[]): Condition[] {
  const out: Condition[] = [];
  for (const c of path) {
    const same = out.findIndex((o) => o.feature === c.feature && o.op === c.op);
    if (same < 0) out.push(c);
    else if (c.op === '<=' ? c.threshold < out[same]!.threshold : c.threshold > out[same]!.threshold) out[same] = c;
  }
  return out;
}

/** "a <= 1 and b > 2", alternatives joined by "or" (parenthesised when they have several conditions). */
export function ruleText(paths: Condition[][]): string {
  if (paths.length === 0) return 'no rule';
  if (paths.length === 1 && paths[0]!.length === 0) return 'all customers';
  const parts = paths.map((p) => p.map((c) => `${c.feature} ${c.op} ${c.threshold}`).join(' and '));
  return paths.length === 1 ? parts[0]! : parts.map((t, i) => (paths[i]!.length > 1 ? `(${t})` : t)).join(' or ');
}

/** Trees as parallel arrays of nodes: `feature` -1 marks a leaf; `roots[c]` is tree c's first node. */
interface FlatTrees {
  roots: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  probability: Float64Array;
  positive: Uint8Array;
}

function flatten(trees: readonly TreeNode[]): FlatTrees {
  const nodes: TreeNode[] = [];
  const collect = (node: TreeNode): void => {
    nodes.push(node);
    if (node.kind === 'split') {
      collect(node.left);
      collect(node.right);
    }
  };
  const roots = new Int32Array(trees.length);
  trees.forEach((tree, c) => {
    roots[c] = nodes.length;
    collect(tree);
  });
  const index = new Map(nodes.map((node, i) => [node, i]));
  const flat: FlatTrees = {
    roots,
    feature: new Int32Array(nodes.length),
    threshold: new Float64Array(nodes.length),
    left: new Int32Array(nodes.length),
    right: new Int32Array(nodes.length),
    probability: new Float64Array(nodes.length),
    positive: new Uint8Array(nodes.length),
  };
  nodes.forEach((node, i) => {
    if (node.kind === 'split') {
      flat.feature[i] = node.feature;
      flat.threshold[i] = node.threshold;
      flat.left[i] = index.get(node.left)!;
      flat.right[i] = index.get(node.right)!;
    } else {
      flat.feature[i] = -1;
      flat.probability[i] = node.probability;
      flat.positive[i] = node.positive ? 1 : 0;
    }
  });
  return flat;
}

/**
 * The indexes of `values` (no NaN) in ascending order of value, equal values in index order: a stable
 * LSD radix sort of the doubles' bit patterns, 11 bits a pass. A comparator sort calls back into
 * JavaScript ~15 times a value; this reads each value six times.
 */
export function argsort(values: Float64Array): Int32Array {
  const m = values.length;
  const bits = new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + m * 8));
  // Order-preserving keys: flip the sign bit of positives, every bit of negatives (little-endian words).
  const lo = new Uint32Array(m);
  const hi = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const h = bits[2 * i + 1]!;
    const negative = h >>> 31 === 1;
    hi[i] = negative ? ~h >>> 0 : (h | 0x80000000) >>> 0;
    lo[i] = negative ? ~bits[2 * i]! >>> 0 : bits[2 * i]!;
  }
  let order = Int32Array.from({ length: m }, (_, i) => i);
  let spare = new Int32Array(m);
  const count = new Int32Array(2048);
  for (let pass = 0; pass < 6; pass++) {
    const word = pass < 3 ? lo : hi;
    const shift = (pass % 3) * 11;
    count.fill(0);
    for (let i = 0; i < m; i++) count[(word[i]! >>> shift) & 2047]!++;
    let sum = 0;
    for (let b = 0; b < 2048; b++) {
      const c = count[b]!;
      count[b] = sum;
      sum += c;
    }
    for (let o = 0; o < m; o++) {
      const i = order[o]!;
      spare[count[(word[i]! >>> shift) & 2047]!++] = i;
    }
    const t = order;
    order = spare;
    spare = t;
  }
  return order;
}

/**
 * Explains a clustering: `X` is n x d in original units, `labels` the segment (0..k-1) of each row.
 */
export function explainSegments(
  X: Float64Array,
  n: number,
  d: number,
  features: readonly string[],
  labels: Int32Array,
  k: number,
  options: ExplainOptions = {},
): Explanation {
  const maxDepth = options.maxDepth ?? 2;
  const maxSample = options.maxSample ?? 20000;
  if (features.length !== d) throw new RangeError(`explainSegments: ${features.length} feature names for ${d} columns`);
  if (labels.length !== n) throw new RangeError(`explainSegments: ${labels.length} labels for ${n} rows`);
  let sampleRows: Int32Array;
  if (n > maxSample) {
    sampleRows = Int32Array.from(sampleIndices(createRng(options.seed ?? 0), n, maxSample)).sort();
  } else {
    sampleRows = Int32Array.from({ length: n }, (_, i) => i);
  }
  const m = sampleRows.length;
  const SX = new Float64Array(m * d);
  for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) SX[i * d + j] = X[sampleRows[i]! * d + j]!;
  const sorted: Int32Array[] = [];
  const column = new Float64Array(m);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < m; i++) column[i] = SX[i * d + j]!;
    sorted.push(argsort(column));
  }
  const all = new Uint8Array(m).fill(1);

  const trees: TreeNode[] = [];
  for (let c = 0; c < k; c++) {
    const y = new Uint8Array(m);
    for (let i = 0; i < m; i++) y[i] = labels[sampleRows[i]!] === c ? 1 : 0;
    const tree = grow({ X: SX, d, y, sorted }, all, 0, maxDepth);
    // A small segment may be the minority in every leaf: then its purest leaf stands for it.
    const ls = leaves(tree);
    if (!ls.some((l) => l.positive)) {
      let best: (typeof ls)[number] | null = null;
      for (const l of ls) if (l.positives > 0 && (best === null || l.probability > best.probability)) best = l;
      if (best) best.positive = true;
    }
    trees.push(tree);
  }

  // One pass over every row: each tree's leaf once, for the rules' figures and the classifier alike. The
  // trees are laid out flat (typed arrays, one root per segment) so the million-row loop reads numbers only.
  const flat = flatten(trees);
  const { feature: nodeFeature, threshold: nodeThreshold, left: nodeLeft, right: nodeRight, probability: leafP, positive: leafPositive } = flat;
  const tp = new Float64Array(k);
  const fp = new Float64Array(k);
  const fn = new Float64Array(k);
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  for (let r = 0; r < n; r++) {
    const truth = labels[r]!;
    let bestFiring = -1;
    let bestFiringP = -1;
    let bestAny = 0;
    let bestAnyP = -1;
    const base = r * d;
    for (let c = 0; c < k; c++) {
      let node = flat.roots[c]!;
      for (let f = nodeFeature[node]!; f >= 0; f = nodeFeature[node]!) {
        node = X[base + f]! <= nodeThreshold[node]! ? nodeLeft[node]! : nodeRight[node]!;
      }
      const probability = leafP[node]!;
      const own = truth === c;
      if (leafPositive[node] === 1) {
        if (own) tp[c]!++;
        else fp[c]!++;
        if (probability > bestFiringP) {
          bestFiring = c;
          bestFiringP = probability;
        }
      } else if (own) fn[c]!++;
      if (probability > bestAnyP) {
        bestAny = c;
        bestAnyP = probability;
      }
    }
    const predicted = bestFiring >= 0 ? bestFiring : bestAny;
    confusion[truth]![predicted]! += 1;
    if (truth === predicted) correct++;
  }

  const rules: SegmentExplanation[] = trees.map((tree, c) => {
    const paths = positivePaths(tree, features, []).map(simplify);
    const t = tp[c]!;
    const f = fp[c]!;
    const miss = fn[c]!;
    const precision = t + f > 0 ? t / (t + f) : 0;
    const recall = t + miss > 0 ? t / (t + miss) : 0;
    return {
      text: ruleText(paths),
      accuracy: n > 0 ? (n - f - miss) / n : 0,
      precision,
      recall,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
      paths,
      tree,
    };
  });
  return { rules, accuracy: n > 0 ? correct / n : 0, confusion, sampleSize: m };
}
