/**
 * Pure mapping between HubSpot objects and what the store and the core use. No I/O here.
 */
import type { AppConfig } from '../config.js';
import type { StoredRecord } from '../store.js';
import type { HubSpotObject, ObjectType } from './types.js';

/** The property HubSpot bumps on every change, per object type (search filters and sorts on it). */
export const LAST_MODIFIED: Readonly<Record<ObjectType, string>> = {
  contacts: 'lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

/** Contact properties the features, the snapshot and write-back read. */
export const CONTACT_PROPERTIES: readonly string[] = [
  'firstname',
  'lastname',
  'email',
  'city',
  'state',
  'zip',
  'country',
  'hs_feedback_last_nps_rating',
  'lastmodifieddate',
  'smart_segment',
  'smart_segment_strategy',
  'smart_segment_model',
];

/** Deal properties the features read. */
export const DEAL_PROPERTIES: readonly string[] = ['amount', 'dealstage', 'closedate', 'pipeline', 'dealname', 'hs_lastmodifieddate'];

/** Properties to request for a type, with the configured satisfaction / distance properties added. */
export function propertiesFor(type: ObjectType, config?: Pick<AppConfig, 'satisfactionProperty' | 'distanceProperty'>): string[] {
  if (type === 'deals') return [...DEAL_PROPERTIES];
  const props = new Set(CONTACT_PROPERTIES);
  if (config?.satisfactionProperty) props.add(config.satisfactionProperty);
  if (config?.distanceProperty) props.add(config.distanceProperty);
  return [...props];
}

/** HubSpot sends times as ISO strings, and in some places as epoch-millisecond strings. NaN when neither. */
export function parseHubSpotTime(value: string | null | undefined): number {
  if (value === null || value === undefined || value === '') return Number.NaN;
  if (/^-?\d+$/.test(value)) return Number(value);
  return Date.parse(value);
}

/** When the record last changed: the last-modified property, else `updatedAt`. */
export function lastModifiedMs(type: ObjectType, obj: HubSpotObject): number {
  const fromProperty = parseHubSpotTime(obj.properties[LAST_MODIFIED[type]]);
  return Number.isFinite(fromProperty) ? fromProperty : parseHubSpotTime(obj.updatedAt);
}

/** A HubSpot object as the store keeps it (properties verbatim: the core parses them). */
export function toStoredRecord(type: ObjectType, obj: HubSpotObject): StoredRecord {
  const modified = lastModifiedMs(type, obj);
  return {
    id: String(obj.id),
    properties: { ...obj.properties },
    updatedAt: Number.isFinite(modified) ? new Date(modified).toISOString() : null,
    archived: obj.archived === true,
  };
}
