/**
 * KPIs per segment (METHOD.md section 5). The seeds name the KPIs without formulas, so the standard
 * industry definitions are used:
 * - Customer lifetime value, the simple descriptive form: average purchase value x purchase frequency
 *   (per year) x customer lifespan (years). This is the textbook "CLV = average purchase value x purchase
 *   frequency x customer lifespan" (e.g. Gupta & Lehmann, "Customers as Assets", J. Interactive Marketing
 *   17(1), 2003, without the margin and discount terms; also HubSpot's and Shopify's CLV guides).
 *   Frequency is per `windowMonths`, scaled to a year; lifespan is `relationshipYears` (default 3).
 *   A segment's CLV is the mean over its customers that have both an order amount and a frequency.
 * - Net Promoter Score (Reichheld, "The One Number You Need to Grow", HBR 2003): % promoters (9–10)
 *   minus % detractors (0–6) among the customers with a rating; null when nobody rated.
 * - Revenue = orders x average order (or the row's `monetary_total` when one of those is missing);
 *   revenue share and customer share are fractions of all assigned customers, no-recent-orders included.
 * Only observed values count: imputed values are never turned into revenue.
 */
import type { FeatureTable, SegmentKpis } from './types.js';

export interface KpiOptions {
  /** Expected relationship length in years. Default 3. */
  relationshipYears?: number;
  /** Months the purchase frequency was counted over. Default 12. */
  windowMonths?: number;
}

export const DEFAULT_RELATIONSHIP_YEARS = 3;

/** CLV of one customer: average order x orders per year x years. */
export function customerLifetimeValue(avgOrder: number, orders: number, relationshipYears = DEFAULT_RELATIONSHIP_YEARS, windowMonths = 12): number {
  return avgOrder * orders * (12 / windowMonths) * relationshipYears;
}

/** NPS from 0–10 ratings (non-finite or out-of-range ratings are ignored); null when none. */
export function netPromoterScore(ratings: ArrayLike<number>): { nps: number | null; responses: number } {
  let promoters = 0;
  let detractors = 0;
  let responses = 0;
  for (let i = 0; i < ratings.length; i++) {
    const r = ratings[i]!;
    if (!Number.isFinite(r) || r < 0 || r > 10) continue;
    responses++;
    if (r >= 9) promoters++;
    else if (r <= 6) detractors++;
  }
  return { nps: responses === 0 ? null : (100 * (promoters - detractors)) / responses, responses };
}

/** In a coded `segmentOfRow`: the row is not assigned (rejected). */
export const KPI_UNASSIGNED = -1;
/** In a coded `segmentOfRow`: the row is assigned, but to a group outside `segmentIds` (no recent orders). */
export const KPI_OTHER_GROUP = -2;

/**
 * KPIs for each segment id in `segmentIds`, from the table's raw values. `segmentOfRow[r]` is the segment
 * of table row r, or null for rows not assigned (rejected); or, coded (what `fit` passes: two bytes a row
 * instead of a string reference), the index of the row's segment in `segmentIds`, KPI_UNASSIGNED or
 * KPI_OTHER_GROUP.
 */
export function computeKpis(
  table: FeatureTable,
  segmentOfRow: readonly (string | null)[] | Int16Array,
  segmentIds: readonly string[],
  options: KpiOptions = {},
): Record<string, SegmentKpis> {
  const years = options.relationshipYears ?? DEFAULT_RELATIONSHIP_YEARS;
  const windowMonths = options.windowMonths ?? 12;
  if (!(years >= 0) || !Number.isFinite(years)) throw new RangeError(`relationshipYears must be a non-negative number, got ${years}`);
  if (!(windowMonths > 0) || !Number.isFinite(windowMonths)) throw new RangeError(`windowMonths must be positive, got ${windowMonths}`);
  const rows = table.ids.length;
  let codes: Int16Array;
  if (segmentOfRow instanceof Int16Array) {
    if (segmentOfRow.length !== rows) throw new RangeError(`segmentOfRow has ${segmentOfRow.length} codes for ${rows} rows`);
    for (const s of segmentOfRow) {
      if (s !== KPI_UNASSIGNED && s !== KPI_OTHER_GROUP && !(s >= 0 && s < segmentIds.length)) {
        throw new RangeError(`segmentOfRow holds code ${s}: not a segment index (0..${segmentIds.length - 1}), KPI_UNASSIGNED or KPI_OTHER_GROUP`);
      }
    }
    codes = segmentOfRow;
  } else {
    const index = new Map(segmentIds.map((id, s) => [id, s]));
    codes = Int16Array.from({ length: rows }, (_, r) => {
      const id = segmentOfRow[r];
      return id === null || id === undefined ? KPI_UNASSIGNED : (index.get(id) ?? KPI_OTHER_GROUP);
    });
  }
  const width = table.columns.length;
  const values = table.values;
  const nps = table.nps;
  const fCol = table.columns.indexOf('purchase_frequency');
  const aCol = table.columns.indexOf('avg_order_amount');
  const mCol = table.columns.indexOf('monetary_total');
  const k = segmentIds.length;
  const customers = new Float64Array(k);
  const revenue = new Float64Array(k);
  const clvSum = new Float64Array(k);
  const clvCount = new Float64Array(k);
  // Per segment: promoters, detractors and responses, as netPromoterScore counts them.
  const ratings = new Float64Array(k * 3);
  let assigned = 0;
  let totalRevenue = 0;
  for (let r = 0; r < rows; r++) {
    const s = codes[r]!;
    if (s === KPI_UNASSIGNED) continue;
    const f = fCol >= 0 ? values[r * width + fCol]! : NaN;
    const a = aCol >= 0 ? values[r * width + aCol]! : NaN;
    const m = mCol >= 0 ? values[r * width + mCol]! : NaN;
    const rowRevenue = Number.isFinite(f) && Number.isFinite(a) ? f * a : Number.isFinite(m) ? m : f === 0 ? 0 : NaN;
    assigned++;
    if (Number.isFinite(rowRevenue)) totalRevenue += rowRevenue;
    if (s < 0) continue;
    customers[s]! += 1;
    if (Number.isFinite(rowRevenue)) revenue[s]! += rowRevenue;
    if (Number.isFinite(f) && (Number.isFinite(a) || f === 0)) {
      clvSum[s]! += f === 0 ? 0 : customerLifetimeValue(a, f, years, windowMonths);
      clvCount[s]! += 1;
    }
    const rating = nps?.[r];
    if (rating !== undefined && Number.isFinite(rating) && rating >= 0 && rating <= 10) {
      if (rating >= 9) ratings[s * 3]! += 1;
      else if (rating <= 6) ratings[s * 3 + 1]! += 1;
      ratings[s * 3 + 2]! += 1;
    }
  }
  const result: Record<string, SegmentKpis> = {};
  segmentIds.forEach((id, s) => {
    const responses = ratings[s * 3 + 2]!;
    result[id] = {
      customers: customers[s]!,
      customerShare: assigned > 0 ? customers[s]! / assigned : 0,
      revenue: revenue[s]!,
      revenueShare: totalRevenue > 0 ? revenue[s]! / totalRevenue : 0,
      clv: clvCount[s]! > 0 ? clvSum[s]! / clvCount[s]! : 0,
      nps: responses === 0 ? null : (100 * (ratings[s * 3]! - ratings[s * 3 + 1]!)) / responses,
      npsResponses: responses,
    };
  });
  return result;
}
