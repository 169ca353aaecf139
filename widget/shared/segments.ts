/**
 * Small helpers shared by the badge and the list: how a segment id is shown, and a light nearest-centre
 * assignment for a single contact (the badge uses it when it is given a model and features but no segment,
 * so the badge bundle does not need the core's clustering modules).
 */
import type { Model, Segment } from '../../src/types.js';
import { NO_RECENT_ORDERS } from '../../src/types.js';
import { t } from './i18n.js';
import type { Locale } from './i18n.js';
import { ARCHETYPE_COLORS, NEUTRAL_COLOR } from './theme.js';

export interface SegmentDisplay {
  id: string;
  label: string;
  color: string;
}

/** Label and colour for a segment (Ukrainian archetype names under `uk`; the model's label otherwise). */
export function displaySegment(segment: Segment, locale: Locale): SegmentDisplay {
  const label = locale !== 'en' && segment.archetype ? t(`archetype.${segment.archetype}`, undefined, locale) : segment.label;
  return { id: segment.id, label, color: segment.color || ARCHETYPE_COLORS[segment.archetype ?? ''] || NEUTRAL_COLOR };
}

/** Display for any segment id: a model segment, "no recent orders", or "unassigned" for ''. */
export function displaySegmentId(id: string, model: Model | null | undefined, locale: Locale): SegmentDisplay {
  const segment = model?.segments.find((s) => s.id === id);
  if (segment) return displaySegment(segment, locale);
  if (id === NO_RECENT_ORDERS) return { id, label: t('segment.noRecentOrders', undefined, locale), color: NEUTRAL_COLOR };
  if (!id) return { id, label: t('segment.unassigned', undefined, locale), color: NEUTRAL_COLOR };
  const archetypeKey = `archetype.${id}`;
  const translated = t(archetypeKey, undefined, locale);
  return { id, label: translated === archetypeKey ? id : translated, color: ARCHETYPE_COLORS[id] ?? NEUTRAL_COLOR };
}

/**
 * The nearest segment of `model` for one contact's features (original units): impute missing values with the
 * model's medians, scale with the model's scaler, nearest centre by Euclidean distance. A contact whose
 * `purchase_frequency` is 0 gets NO_RECENT_ORDERS, as in the core. Returns null when nothing is known.
 */
export function nearestSegment(
  model: Model,
  features: Record<string, number | null | undefined>,
): { segment: string; distance: number; imputed: boolean } | null {
  if (features.purchase_frequency === 0) return { segment: NO_RECENT_ORDERS, distance: Number.NaN, imputed: false };
  let imputed = false;
  let known = 0;
  const point = model.features.map((feature, j) => {
    let value = features[feature];
    if (value === null || value === undefined || Number.isNaN(value)) {
      value = model.imputation[feature] ?? 0;
      imputed = true;
    } else {
      known += 1;
    }
    const scale = model.scaler.scale[j] || 1;
    return (value - (model.scaler.offset[j] ?? 0)) / scale;
  });
  if (known === 0) return null;
  let best = -1;
  let bestDistance = Number.POSITIVE_INFINITY;
  model.centroids.forEach((centre, c) => {
    let sum = 0;
    for (let j = 0; j < point.length; j += 1) {
      const d = (point[j] as number) - (centre[j] ?? 0);
      sum += d * d;
    }
    if (sum < bestDistance) {
      bestDistance = sum;
      best = c;
    }
  });
  const segment = model.segments[best];
  return segment ? { segment: segment.id, distance: Math.sqrt(bestDistance), imputed } : null;
}
