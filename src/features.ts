/**
 * From CRM records (HubSpot contacts, deals and their associations) to the feature table that clusters
 * (METHOD.md section 1). Pure: the as-of date is configuration, the gazetteer is an injected Geocoder.
 *
 * Per contact, over the `windowMonths` calendar months before `asOf` (window [asOf - windowMonths, asOf)):
 * - purchase_frequency: associated deals whose `dealstage` is in `wonStages` and whose `closedate` is in the window;
 * - avg_order_amount: mean `amount` of those deals that have one (NaN if none has one);
 * - monetary_total: sum of those amounts (0 with no orders, NaN when orders exist but none has an amount);
 * - recency_days: whole days from the last such deal's close date to asOf (NaN with no orders);
 * - distance_km: the `distanceProperty` when configured and valid, else the haversine distance from the
 *   geocoded city/state/zip/country to the warehouse; NaN when the contact cannot be located;
 * - satisfaction: the `satisfactionProperty` (1–5) when configured and valid, else the NPS rating 0–10 mapped
 *   linearly onto 1–5 (1 + nps x 0.4, so 0 -> 1, 5 -> 3, 10 -> 5); NaN when neither is known.
 * Bad values (an amount "abc", an NPS of 14, an unreadable close date) are not fatal: the field counts as
 * missing and a note naming the contact and the field goes into `rejected`; the contact stays in the table.
 */
import { ALL_FEATURES } from './types.js';
import type { CrmInput, FeatureConfig, FeatureKey, FeatureTable, Geocoder, LatLon, RejectedRow } from './types.js';

/** Defaults for every mapping. `asOf` must be supplied by the caller (the core has no clock). */
export const DEFAULT_FEATURE_CONFIG: FeatureConfig = {
  asOf: '',
  windowMonths: 12,
  wonStages: ['closedwon'],
  // The paper's warehouse-store is in Kyiv.
  warehouse: { lat: 50.4501, lon: 30.5234 },
  npsProperty: 'hs_feedback_last_nps_rating',
  relationshipYears: 3,
};

/** Mean Earth radius (IUGG), km. */
const EARTH_RADIUS_KM = 6371.0088;
const DAY_MS = 86_400_000;
/** Deal states in extractFeatures: not an order (0), a won deal closed in the window, a won deal with an unreadable date. */
const DEAL_ORDER = 1;
const DEAL_BAD_DATE = 2;
/** Marks an unreadable or negative amount (valid amounts are >= 0, missing ones NaN). */
const BAD_AMOUNT = -1;
/** Column index of each feature in the extracted table (ALL_FEATURES order). */
const COL = Object.fromEntries(ALL_FEATURES.map((f, j) => [f, j])) as Record<FeatureKey, number>;

/** Great-circle distance in km (haversine formula, spherical Earth of mean radius 6371.0088 km). */
export function haversineKm(a: LatLon, b: LatLon): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(s)));
}

/**
 * A HubSpot date property in epoch milliseconds: ISO 8601 (`2025-03-04`, `2025-03-04T10:00:00.000Z`) or an
 * epoch-millisecond string (`1741082400000`). NaN when empty or unreadable.
 */
export function parseCrmDate(value: string | null | undefined): number {
  if (value === null || value === undefined) return NaN;
  const s = value.trim();
  if (s.length === 0) return NaN;
  if (/^-?\d+$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return NaN;
  // A date-time without a zone would be read in the machine's local zone: HubSpot means UTC.
  return Date.parse(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s) ? s + 'Z' : s);
}

/** `ms` moved by `months` calendar months in UTC, the day clamped to the target month (Mar 31 - 1 = Feb 28). */
export function addMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  return Date.UTC(
    target.getUTCFullYear(),
    target.getUTCMonth(),
    Math.min(d.getUTCDate(), lastDay),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}

/** A numeric CRM property: undefined when absent or blank, NaN when present but not a number. */
function numberProperty(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const s = value.trim();
  if (s.length === 0) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : NaN;
}

function text(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  const s = value.trim();
  return s.length === 0 ? null : s;
}

export interface ExtractResult {
  table: FeatureTable;
  rejected: RejectedRow[];
}

/**
 * Builds one row per contact (columns ALL_FEATURES, NaN where missing) and `table.nps` from the NPS property.
 * Throws RangeError for an invalid configuration (a missing or unreadable asOf, a non-positive window).
 */
export function extractFeatures(input: CrmInput, config: FeatureConfig, geocode?: Geocoder): ExtractResult {
  const asOf = parseCrmDate(config.asOf);
  if (Number.isNaN(asOf)) throw new RangeError(`asOf must be an ISO date, got ${JSON.stringify(config.asOf)}`);
  if (!(config.windowMonths > 0) || !Number.isInteger(config.windowMonths)) {
    throw new RangeError(`windowMonths must be a positive integer, got ${config.windowMonths}`);
  }
  const windowStart = addMonthsUtc(asOf, -config.windowMonths);
  const won = new Set(config.wonStages.map((s) => s.trim().toLowerCase()));
  // Each deal is read once, however many contacts share it (B2B deals often have several contacts).
  const deals = input.deals;
  const m = deals.length;
  const dealIndex = new Map<string, number>();
  const state = new Uint8Array(m);
  const closedAt = new Float64Array(m);
  const amountOf = new Float64Array(m);
  for (let d = 0; d < m; d++) {
    const props = deals[d]!.properties;
    dealIndex.set(deals[d]!.id, d);
    const stage = text(props['dealstage']);
    if (stage === null || !won.has(stage.toLowerCase())) continue;
    const closed = parseCrmDate(props['closedate']);
    if (Number.isNaN(closed)) {
      state[d] = DEAL_BAD_DATE;
      continue;
    }
    if (closed < windowStart || closed >= asOf) continue;
    state[d] = DEAL_ORDER;
    closedAt[d] = closed;
    const amount = numberProperty(props['amount']);
    amountOf[d] = amount === undefined ? NaN : Number.isNaN(amount) || amount < 0 ? BAD_AMOUNT : amount;
  }
  // seenBy[d] === r when contact r already counted deal d (an association listed twice).
  const seenBy = new Int32Array(m).fill(-1);

  const contacts = input.contacts;
  const n = contacts.length;
  const width = ALL_FEATURES.length;
  const values = new Float64Array(n * width);
  const nps = new Float64Array(n);
  const ids: string[] = new Array<string>(n);
  const rejected: RejectedRow[] = [];

  for (let r = 0; r < n; r++) {
    const contact = contacts[r]!;
    const id = contact.id;
    ids[r] = id;
    const props = contact.properties;
    const note = (field: string, reason: string): void => {
      rejected.push({ id, field, reason });
    };

    // Orders in the window.
    let orders = 0;
    let amountSum = 0;
    let amountCount = 0;
    let last = -Infinity;
    for (const dealId of input.associations[id] ?? []) {
      const d = dealIndex.get(dealId);
      if (d === undefined || seenBy[d] === r) continue; // unknown deals were deleted or are outside the sync
      seenBy[d] = r;
      if (state[d] === DEAL_BAD_DATE) {
        const raw = deals[d]!.properties['closedate'];
        note('closedate', `deal ${dealId}: close date ${JSON.stringify(raw ?? null)} is not a date; the deal is not counted`);
        continue;
      }
      if (state[d] !== DEAL_ORDER) continue;
      orders++;
      if (closedAt[d]! > last) last = closedAt[d]!;
      const amount = amountOf[d]!;
      if (amount === BAD_AMOUNT) {
        note('amount', `deal ${dealId}: amount ${JSON.stringify(deals[d]!.properties['amount'])} is not a non-negative number`);
      } else if (!Number.isNaN(amount)) {
        amountSum += amount;
        amountCount++;
      }
    }
    const base = r * width;
    values[base + COL.purchase_frequency] = orders;
    values[base + COL.avg_order_amount] = amountCount > 0 ? amountSum / amountCount : NaN;
    values[base + COL.monetary_total] = orders === 0 ? 0 : amountCount > 0 ? amountSum : NaN;
    values[base + COL.recency_days] = orders > 0 ? Math.floor((asOf - last) / DAY_MS) : NaN;

    // Distance to the warehouse.
    let distance = NaN;
    let haveDistance = false;
    if (config.distanceProperty) {
      const raw = props[config.distanceProperty];
      const v = numberProperty(raw);
      if (v !== undefined) {
        if (Number.isNaN(v) || v < 0) note(config.distanceProperty, `distance ${JSON.stringify(raw)} is not a non-negative number`);
        else {
          distance = v;
          haveDistance = true;
        }
      }
    }
    if (!haveDistance && geocode) {
      const place = { city: text(props['city']), state: text(props['state']), zip: text(props['zip']), country: text(props['country']) };
      if (place.city !== null || place.zip !== null) {
        const at = geocode(place);
        if (at) distance = haversineKm(at, config.warehouse);
        else {
          const where = [place.city, place.state, place.zip, place.country].filter((p) => p !== null).join(', ');
          note('city', `location "${where}" was not found in the gazetteer; distance_km is missing`);
        }
      }
    }
    values[base + COL.distance_km] = distance;

    // NPS and satisfaction.
    const rawNps = props[config.npsProperty];
    let rating = numberProperty(rawNps);
    if (rating !== undefined && (Number.isNaN(rating) || rating < 0 || rating > 10)) {
      note(config.npsProperty, `NPS rating ${JSON.stringify(rawNps)} is not a number from 0 to 10`);
      rating = undefined;
    }
    nps[r] = rating ?? NaN;
    let satisfaction = NaN;
    if (config.satisfactionProperty) {
      const raw = props[config.satisfactionProperty];
      const v = numberProperty(raw);
      if (v !== undefined) {
        if (Number.isNaN(v) || v < 1 || v > 5) note(config.satisfactionProperty, `satisfaction ${JSON.stringify(raw)} is not a number from 1 to 5`);
        else satisfaction = v;
      }
    }
    // Rounded so that NPS 7 gives 3.8, not 3.8000000000000003.
    if (Number.isNaN(satisfaction) && rating !== undefined) satisfaction = Math.round((1 + rating * 0.4) * 1e9) / 1e9;
    values[base + COL.satisfaction] = satisfaction;
  }

  return { table: { ids, columns: [...ALL_FEATURES], values, nps }, rejected };
}
