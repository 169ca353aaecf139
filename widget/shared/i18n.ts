/**
 * Tiny i18n for the elements: English and Ukrainian. `t(key, params?, locale?)` looks the key up in the
 * locale's dictionary (falling back to English, then to the key itself) and fills `{name}` placeholders.
 * Elements resolve their locale with `localeFor(this)` (nearest `lang` attribute, crossing shadow roots,
 * else the document's, else the browser's) and may add their own strings with `registerStrings`.
 */

export type Locale = 'en' | 'uk';
export type Dictionary = Record<string, string>;
export type Params = Record<string, string | number>;

export const SUPPORTED_LOCALES: readonly Locale[] = ['en', 'uk'];

const en: Dictionary = {
  // generic
  'state.loading': 'Loading…',
  'state.error': 'Something went wrong: {message}',
  'state.retry': 'Retry',
  'state.empty': 'Nothing to show yet.',
  'common.close': 'Close',
  'common.all': 'All',
  // segments
  'segment.none': 'Not segmented yet',
  'segment.noneHelp': 'No segmentation model has been published yet. An admin can fit and publish one in the segment explorer.',
  'segment.noRecentOrders': 'No recent orders',
  'segment.noRecentOrdersHelp': 'This contact has no won deals in the analysis window, so it is not placed in a segment.',
  'segment.unknownContact': 'Unknown contact',
  'segment.unknownContactHelp': 'Contact {id} was not found.',
  'segment.unassigned': 'Unassigned',
  'archetype.loyal': 'Loyal',
  'archetype.profitable': 'Profitable',
  'archetype.risky': 'Risky',
  // badge
  'badge.label': 'Segment: {label}',
  'badge.openCard': 'Show details for segment {label}',
  'badge.unavailable': 'Segment unavailable',
  'badge.why': 'Why this segment',
  'badge.strategy': 'Strategy',
  'badge.priority': 'Priority {priority}',
  'badge.priorityHelp': 'Investment priority {priority} of 3',
  'badge.technologies': 'Technologies',
  'badge.movesKpis': 'Moves: {kpis}',
  'badge.profile': 'This contact vs. the segment centre',
  'badge.contact': 'Contact',
  'badge.centre': 'Segment centre',
  'badge.feature': 'Feature',
  'badge.basisNote': 'Strategy of the nearest archetype: {archetype}',
  'badge.imputed': 'Some values were missing and filled with the typical value.',
  // features
  'feature.purchase_frequency': 'Orders (12 mo)',
  'feature.avg_order_amount': 'Avg order',
  'feature.distance_km': 'Distance',
  'feature.satisfaction': 'Satisfaction',
  'feature.recency_days': 'Days since order',
  'feature.monetary_total': 'Revenue (12 mo)',
  // list
  'list.label': 'Contacts by segment',
  'list.name': 'Name',
  'list.email': 'Email',
  'list.city': 'City',
  'list.segment': 'Segment',
  'list.search': 'Search contacts',
  'list.searchPlaceholder': 'Search name, email or city',
  'list.filter': 'Filter by segment',
  'list.allSegments': 'All segments',
  'list.showing': 'Showing {shown} of {total}',
  'list.export': 'Export CSV',
  'list.exportHelp': 'Download the {count} filtered contacts as CSV',
  'list.empty': 'No contacts yet. Run a sync to pull contacts from HubSpot.',
  'list.noMatches': 'No contacts match your filters.',
  'list.clearFilters': 'Clear filters',
  'list.sortAsc': 'sorted ascending',
  'list.sortDesc': 'sorted descending',
  'list.sortBy': 'Sort by {column}',
  'list.rowsLabel': 'Contacts',
  // demo
  'demo.contactRecord': 'Contact record',
  'demo.segmentList': 'Segment list',
  'demo.explorer': 'Segment explorer',
  'demo.openExplorer': 'Open segment explorer',
  'demo.previous': 'Previous contact',
  'demo.next': 'Next contact',
  'demo.pickContact': 'Find a contact',
  'demo.about': 'About this contact',
  'demo.activity': 'Activity',
  'demo.deals': 'Deals',
  'demo.noDeals': 'No deals yet.',
  'demo.smartSegments': 'Smart Segments',
};

const uk: Dictionary = {
  'state.loading': 'Завантаження…',
  'state.error': 'Щось пішло не так: {message}',
  'state.retry': 'Повторити',
  'state.empty': 'Поки що нічого показати.',
  'common.close': 'Закрити',
  'common.all': 'Усі',
  'segment.none': 'Ще не сегментовано',
  'segment.noneHelp': 'Модель сегментації ще не опубліковано. Адміністратор може побудувати й опублікувати її в оглядачі сегментів.',
  'segment.noRecentOrders': 'Немає нещодавніх замовлень',
  'segment.noRecentOrdersHelp': 'У цього контакту немає виграних угод за період аналізу, тому його не віднесено до сегмента.',
  'segment.unknownContact': 'Невідомий контакт',
  'segment.unknownContactHelp': 'Контакт {id} не знайдено.',
  'segment.unassigned': 'Без сегмента',
  'archetype.loyal': 'Лояльні',
  'archetype.profitable': 'Прибуткові',
  'archetype.risky': 'Ризикові',
  'badge.label': 'Сегмент: {label}',
  'badge.openCard': 'Показати деталі сегмента {label}',
  'badge.unavailable': 'Сегмент недоступний',
  'badge.why': 'Чому цей сегмент',
  'badge.strategy': 'Стратегія',
  'badge.priority': 'Пріоритет {priority}',
  'badge.priorityHelp': 'Пріоритет інвестицій {priority} з 3',
  'badge.technologies': 'Технології',
  'badge.movesKpis': 'Впливає на: {kpis}',
  'badge.profile': 'Цей контакт порівняно з центром сегмента',
  'badge.contact': 'Контакт',
  'badge.centre': 'Центр сегмента',
  'badge.feature': 'Ознака',
  'badge.basisNote': 'Стратегія найближчого архетипу: {archetype}',
  'badge.imputed': 'Деякі значення були відсутні й заповнені типовими.',
  'feature.purchase_frequency': 'Замовлення (12 міс.)',
  'feature.avg_order_amount': 'Середнє замовлення',
  'feature.distance_km': 'Відстань',
  'feature.satisfaction': 'Задоволеність',
  'feature.recency_days': 'Днів від замовлення',
  'feature.monetary_total': 'Виручка (12 міс.)',
  'list.label': 'Контакти за сегментами',
  'list.name': "Ім'я",
  'list.email': 'Ел. пошта',
  'list.city': 'Місто',
  'list.segment': 'Сегмент',
  'list.search': 'Пошук контактів',
  'list.searchPlaceholder': "Пошук за ім'ям, поштою чи містом",
  'list.filter': 'Фільтр за сегментом',
  'list.allSegments': 'Усі сегменти',
  'list.showing': 'Показано {shown} з {total}',
  'list.export': 'Експорт CSV',
  'list.exportHelp': 'Завантажити {count} відфільтрованих контактів у CSV',
  'list.empty': 'Контактів ще немає. Запустіть синхронізацію, щоб отримати контакти з HubSpot.',
  'list.noMatches': 'Жоден контакт не відповідає фільтрам.',
  'list.clearFilters': 'Скинути фільтри',
  'list.sortAsc': 'за зростанням',
  'list.sortDesc': 'за спаданням',
  'list.sortBy': 'Сортувати за: {column}',
  'list.rowsLabel': 'Контакти',
  'demo.contactRecord': 'Картка контакту',
  'demo.segmentList': 'Список сегментів',
  'demo.explorer': 'Оглядач сегментів',
  'demo.openExplorer': 'Відкрити оглядач сегментів',
  'demo.previous': 'Попередній контакт',
  'demo.next': 'Наступний контакт',
  'demo.pickContact': 'Знайти контакт',
  'demo.about': 'Про контакт',
  'demo.activity': 'Активність',
  'demo.deals': 'Угоди',
  'demo.noDeals': 'Угод ще немає.',
  'demo.smartSegments': 'Smart Segments',
};

const dictionaries: Record<Locale, Dictionary> = { en: { ...en }, uk: { ...uk } };
let current: Locale | null = null;
const listeners = new Set<(locale: Locale) => void>();

/** 'uk-UA' -> 'uk'; anything unsupported -> 'en'. */
export function normalizeLocale(tag: string | null | undefined): Locale {
  const base = (tag ?? '').trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return (SUPPORTED_LOCALES as readonly string[]).includes(base) ? (base as Locale) : 'en';
}

/** Adds or overrides strings for a locale (elements register their own dictionaries at module load). */
export function registerStrings(locale: Locale, dict: Dictionary): void {
  Object.assign(dictionaries[locale], dict);
}

/** Sets the page-wide default locale (used when no `lang` attribute is found) and notifies listeners. */
export function setLocale(locale: Locale | string): void {
  current = normalizeLocale(locale);
  for (const listener of listeners) listener(current);
}

/** The page-wide default: `setLocale`, else `<html lang>`, else the browser language. */
export function getLocale(): Locale {
  if (current) return current;
  if (typeof document !== 'undefined' && document.documentElement.lang) {
    return normalizeLocale(document.documentElement.lang);
  }
  if (typeof navigator !== 'undefined') return normalizeLocale(navigator.language);
  return 'en';
}

/** Subscribes to `setLocale` changes; returns the unsubscribe function. */
export function onLocaleChange(listener: (locale: Locale) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The locale for an element: the nearest `lang` attribute up the tree (through shadow hosts), else the default. */
export function localeFor(element: Element): Locale {
  let node: Node | null = element;
  while (node) {
    if (node instanceof Element && node.hasAttribute('lang') && node.getAttribute('lang')) {
      return normalizeLocale(node.getAttribute('lang'));
    }
    node = node.parentNode ?? (node instanceof ShadowRoot ? node.host : null);
  }
  return getLocale();
}

/** Translates `key`, filling `{name}` placeholders from `params`. Numbers are formatted for the locale. */
export function t(key: string, params?: Params, locale: Locale = getLocale()): string {
  const template = dictionaries[locale][key] ?? dictionaries.en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) => {
    const value = params[name];
    if (value === undefined) return match;
    return typeof value === 'number' ? formatInteger(value, locale) : value;
  });
}

function formatInteger(value: number, locale: Locale): string {
  return Number.isInteger(value) ? new Intl.NumberFormat(locale === 'uk' ? 'uk-UA' : 'en-US').format(value) : String(value);
}
