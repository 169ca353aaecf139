/**
 * All Smart Segments elements. Importing this module registers `<smart-segment-badge>`,
 * `<smart-segment-list>` and `<smart-segment-explorer>`.
 */
export { SmartSegmentBadge } from './badge/badge.js';
export type { BadgeContact, BadgeState } from './badge/badge.js';
export { SmartSegmentList } from './list/list.js';
export { SmartSegmentExplorer } from './explorer/explorer.js';
export { ApiClient, ApiError } from './shared/api.js';
export { EVENTS } from './shared/events.js';
export type * from './shared/events.js';
export { setLocale, registerStrings } from './shared/i18n.js';
