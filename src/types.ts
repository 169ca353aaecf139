/**
 * The core's shared vocabulary. Every module of `src/`, the connector and the widget speak these types.
 * Everything here is plain, JSON-safe data (typed arrays only where noted, for hot loops).
 */

/** The built-in feature keys (METHOD.md section 1). Tables may carry other numeric columns too. */
export type FeatureKey =
  | 'purchase_frequency'
  | 'avg_order_amount'
  | 'distance_km'
  | 'satisfaction'
  | 'recency_days'
  | 'monetary_total';

export const ALL_FEATURES: readonly FeatureKey[] = [
  'purchase_frequency',
  'avg_order_amount',
  'distance_km',
  'satisfaction',
  'recency_days',
  'monetary_total',
];

/** The paper's four clustering variables, the default selection. */
export const DEFAULT_FEATURES: readonly FeatureKey[] = [
  'purchase_frequency',
  'avg_order_amount',
  'distance_km',
  'satisfaction',
];

export type Archetype = 'loyal' | 'profitable' | 'risky';
export type TechnologyKey =
  | 'iot'
  | 'big_data'
  | 'ai'
  | 'ml_cognitive'
  | 'automation_robotics'
  | 'ar_vr_digital_twin'
  | 'it_cloud'
  | 'blockchain';
export type Method = 'kmeans' | 'ward';
export type ScalerKind = 'zscore' | 'minmax';
export type Priority = 1 | 2 | 3;

/** Segment id given to contacts with no orders in the window: never clustered as zeros. */
export const NO_RECENT_ORDERS = 'no_recent_orders';

/**
 * A numeric table: one row per customer, one column per feature, row-major, `NaN` where missing.
 * `values.length === ids.length * columns.length`.
 */
export interface FeatureTable {
  ids: string[];
  columns: string[];
  values: Float64Array;
  /** Optional per-row NPS rating 0–10 (for the NPS KPI); NaN where unknown. */
  nps?: Float64Array;
}

/** A row that cannot be used, and why (names the record and the field). */
export interface RejectedRow {
  id: string;
  /** 1-based line in the source file when the table came from a file. */
  line?: number;
  field?: string;
  reason: string;
}

/** CRM-shaped input, as the connector holds it (HubSpot object shapes, properties as strings). */
export interface CrmRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
}
export interface CrmInput {
  contacts: CrmRecord[];
  deals: CrmRecord[];
  /** contact id -> associated deal ids */
  associations: Record<string, string[]>;
}

export interface LatLon {
  lat: number;
  lon: number;
}

/** Offline geocoder, injected (the gazetteer lives in the connector, never in `src/` or the browser bundle). */
export type Geocoder = (place: {
  city?: string | null;
  state?: string | null;
  zip?: string | null;
  country?: string | null;
}) => LatLon | null;

/** How CRM records become features. Every field has a documented default (see features.ts). */
export interface FeatureConfig {
  /** ISO date; the window is the `windowMonths` months before it. */
  asOf: string;
  windowMonths: number;
  /** Deal stages that count as orders. Default `['closedwon']`. */
  wonStages: string[];
  warehouse: LatLon;
  /** A 1–5 contact property; when absent/empty, NPS 0–10 is mapped to 1–5. */
  satisfactionProperty?: string;
  /** Contact property holding the NPS rating 0–10. Default `hs_feedback_last_nps_rating`. */
  npsProperty: string;
  /** A numeric contact property that overrides the geocoded distance. */
  distanceProperty?: string;
  /** Expected relationship length in years, for CLV. */
  relationshipYears: number;
}

export interface Scaler {
  kind: ScalerKind;
  /** x' = (x - offset[j]) / scale[j] */
  offset: number[];
  scale: number[];
}

export interface ProgressEvent {
  stage: string;
  /** 0..1 */
  fraction: number;
  message?: string;
}

export interface FitOptions {
  /** Which columns cluster. Default DEFAULT_FEATURES. */
  features?: string[];
  k: number | 'auto';
  method: Method;
  seed: number;
  scaler?: ScalerKind;
  /** k-means restarts; the lowest inertia wins. */
  restarts?: number;
  /** Fraction held out for the stability check (default 0.3; 0 disables). */
  holdout?: number;
  /** Previous model: names and colours are kept for matching centroids. */
  previous?: Model;
  /** ISO timestamp stamped on the model (the core has no clock). */
  createdAt?: string;
  onProgress?: (event: ProgressEvent) => void;
  /** Cooperative cancellation: checked between steps. */
  signal?: { readonly aborted: boolean };
  /** Expected relationship length in years, for CLV (default 3). */
  relationshipYears?: number;
  /** Months the purchase frequency was counted over, to turn it into orders per year for CLV (default 12). */
  windowMonths?: number;
  /**
   * Return the assignments as typed arrays (`FitResult.packed`, transferable from a Web Worker) instead
   * of one object per row (`assignments` is then empty): a million objects cost more than the arrays.
   */
  packed?: boolean;
}

export interface StrategyRecommendation {
  /** The archetype whose strategy applies (the segment's own, or the nearest for descriptive segments). */
  basis: Archetype;
  priority: Priority;
  technologies: TechnologyKey[];
  summary: string;
}

export interface SegmentKpis {
  customers: number;
  customerShare: number;
  revenue: number;
  revenueShare: number;
  /** avg order x orders per year x relationship years (see kpis.ts). */
  clv: number;
  /** -100..100, null when no NPS ratings in the segment. */
  nps: number | null;
  npsResponses: number;
}

export interface SegmentRule {
  /** e.g. "satisfaction <= 2.1 and distance_km > 150" */
  text: string;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface Segment {
  /** Stable key: the archetype, or a descriptive slug; also the value written back to HubSpot. */
  id: string;
  archetype: Archetype | null;
  label: string;
  why: string;
  /** CSS colour, kept across re-fits for matched segments. */
  color: string;
  size: number;
  /** Final centre in original units, keyed by feature. */
  centroid: Record<string, number>;
  /** Initial centre in original units (k-means), for the paper's Fig. 1. */
  initialCentroid?: Record<string, number>;
  strategy: StrategyRecommendation;
  kpis: SegmentKpis;
  rule?: SegmentRule;
}

export interface DendrogramMerge {
  /** scipy linkage convention: ids < n are leaves, n + i is the cluster formed at merge i. */
  a: number;
  b: number;
  height: number;
  size: number;
}

export interface ModelQuality {
  silhouette: number;
  silhouetteSampleSize: number;
  inertia: number;
  iterations: number;
  /** Silhouette and inertia for each k tried (k = auto) */
  kSearch?: { k: number; silhouette: number; inertia: number }[];
  /** Rows the k search clustered, when it ran on a seeded sample of a large table (kSearch inertia is on it). */
  kSearchSampleSize?: number;
  stability?: { ari: number; agreement: number; holdoutSize: number; trainingSize: number };
  explanation?: { accuracy: number; confusion: number[][]; labels: string[] };
}

export const MODEL_VERSION = 1;

/** The fitted model: versioned, JSON-serialisable, applied identically in Node, browser and worker. */
export interface Model {
  kind: 'smart-segments-model';
  version: typeof MODEL_VERSION;
  createdAt: string;
  method: Method;
  k: number;
  seed: number;
  features: string[];
  scaler: Scaler;
  /** Medians used to impute missing values of new customers (original units), by feature. */
  imputation: Record<string, number>;
  /** Centres in standardised space, one array per segment, same order as `segments`. */
  centroids: number[][];
  segments: Segment[];
  quality: ModelQuality;
  /** Ward merge tree (on the sample that was clustered hierarchically). */
  dendrogram?: { merges: DendrogramMerge[]; leaves: number };
  data: {
    rows: number;
    clustered: number;
    imputed: number;
    noRecentOrders: number;
    rejected: RejectedRow[];
  };
}

export interface Assignment {
  id: string;
  /** Segment id, or NO_RECENT_ORDERS. */
  segment: string;
  /** Distance to the assigned centre in standardised units (NaN for NO_RECENT_ORDERS). */
  distance: number;
  imputed: boolean;
}

export interface FitResult {
  model: Model;
  /** One per assigned row, in table order (empty when `FitOptions.packed`). */
  assignments: Assignment[];
  /** With `FitOptions.packed`: the same assignments as typed arrays. */
  packed?: PackedAssignments;
}

/**
 * Assignments as typed arrays, one entry per assigned table row in table order: what `assignments` holds,
 * without a million objects (and transferable between threads).
 */
export interface PackedAssignments {
  /** Table row of each assignment. */
  rows: Int32Array;
  /** Index into model.segments; -1 = NO_RECENT_ORDERS. */
  segments: Int16Array;
  distances: Float64Array;
  imputed: Uint8Array;
}

/**
 * The snapshot the connector serves and the widget caches: columnar, compact for a million contacts.
 * `values` is row-major `ids.length x features.length`, `null` where missing; the widget's cache hands it
 * back as a Float64Array with NaN where missing (a copy, not a million boxed numbers), so readers treat
 * both `null` and NaN as missing.
 */
export interface Snapshot {
  kind: 'smart-segments-snapshot';
  version: 1;
  /** Changes whenever the contents change; the widget sends it back to fetch only changes. */
  etag: string;
  portalId: string;
  generatedAt: string;
  asOf: string;
  features: string[];
  ids: string[];
  /** Display fields, same order as ids. */
  firstnames: string[];
  lastnames: string[];
  emails: string[];
  cities: string[];
  countries: string[];
  values: (number | null)[] | Float64Array;
  /** NPS 0–10 per contact, null where unknown. */
  nps: (number | null)[];
  /** Segment currently written back to the CRM, '' where none. */
  segments: string[];
}

/** Changes since an etag: rows upserted (same columnar shape) and ids deleted. */
export interface SnapshotDelta {
  kind: 'smart-segments-snapshot-delta';
  version: 1;
  since: string;
  etag: string;
  upserts: Omit<Snapshot, 'kind' | 'version' | 'etag' | 'portalId' | 'generatedAt' | 'asOf' | 'values'> & { values: (number | null)[] };
  deletes: string[];
}
