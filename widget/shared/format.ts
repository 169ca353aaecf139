/** Number formatting per feature and locale. Missing values (null/NaN) render as an em dash. */
import type { Locale } from './i18n.js';

const intlLocale = (locale: Locale): string => (locale === 'uk' ? 'uk-UA' : 'en-US');

export const MISSING = '—';

// Building an Intl.NumberFormat costs ~50x formatting with one; the list formats every visible cell on
// every scroll frame, so formatters are kept per locale and options (BENCHMARKS.md).
const formatters = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: Locale, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.NumberFormat(intlLocale(locale), options);
    formatters.set(key, f);
  }
  return f;
}

export function isMissing(value: number | null | undefined): value is null | undefined {
  return value === null || value === undefined || Number.isNaN(value);
}

export function formatNumber(
  value: number | null | undefined,
  locale: Locale = 'en',
  maximumFractionDigits = 0,
  minimumFractionDigits = 0,
): string {
  if (isMissing(value)) return MISSING;
  return numberFormat(locale, { maximumFractionDigits, minimumFractionDigits }).format(value);
}

export function formatPercent(fraction: number | null | undefined, locale: Locale = 'en', digits = 0): string {
  if (isMissing(fraction)) return MISSING;
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: digits }).format(fraction);
}

export function formatCurrency(value: number | null | undefined, locale: Locale = 'en', currency = 'USD'): string {
  if (isMissing(value)) return MISSING;
  return numberFormat(locale, {
    style: 'currency',
    currency,
    maximumFractionDigits: Math.abs(value) >= 100 ? 0 : 2,
  }).format(value);
}

const units: Record<Locale, Record<string, string>> = {
  en: { km: 'km', days: 'days', of5: '/ 5' },
  uk: { km: 'км', days: 'дн.', of5: '/ 5' },
};

/** The unit shown after a feature's value, '' for plain counts. */
export function featureUnit(feature: string, locale: Locale = 'en'): string {
  switch (feature) {
    case 'distance_km':
      return units[locale].km as string;
    case 'recency_days':
      return units[locale].days as string;
    case 'satisfaction':
      return units[locale].of5 as string;
    case 'avg_order_amount':
    case 'monetary_total':
      return '$';
    default:
      return '';
  }
}

/** A feature value with its unit, e.g. `$351.64`, `23 km`, `4.3 / 5`, `67`. */
export function formatFeature(feature: string, value: number | null | undefined, locale: Locale = 'en'): string {
  if (isMissing(value)) return MISSING;
  switch (feature) {
    case 'avg_order_amount':
    case 'monetary_total':
      return formatCurrency(value, locale);
    case 'distance_km':
      return `${formatNumber(value, locale, value < 10 ? 1 : 0)} ${units[locale].km}`;
    case 'satisfaction':
      return `${formatNumber(value, locale, 1, 1)} ${units[locale].of5}`;
    case 'recency_days':
      return `${formatNumber(value, locale)} ${units[locale].days}`;
    case 'purchase_frequency':
      return formatNumber(value, locale, Number.isInteger(value) ? 0 : 1);
    default:
      return formatNumber(value, locale, 2);
  }
}

/** A date (ISO string) as a short local date; the input back when it does not parse. */
export function formatDate(iso: string | null | undefined, locale: Locale = 'en'): string {
  if (!iso) return MISSING;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(intlLocale(locale), { year: 'numeric', month: 'short', day: 'numeric' }).format(date);
}
