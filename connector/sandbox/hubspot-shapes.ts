/**
 * HubSpot's JSON shapes, built from the sandbox's records. Sources (checked 2026-11):
 * - objects: @hubspot/api-client 13 `lib/codegen/crm/objects/models/SimplePublicObject` (id, properties,
 *   createdAt, updatedAt, archived, archivedAt), `CollectionResponseSimplePublicObjectWithAssociationsForwardPaging`
 *   (results, paging.next.{after, link}), `CollectionResponseWithTotalSimplePublicObjectForwardPaging` (search:
 *   total, results, paging), `BatchResponseSimplePublicObjectWithErrors` (status, results, startedAt,
 *   completedAt, numErrors, errors: StandardError[]).
 * - properties: `crm/properties/models/Property`, `PropertyGroup`, `Option`.
 * - associations v4: `crm/associations/v4/models/BatchResponsePublicAssociationMultiWithLabel` and
 *   developers.hubspot.com/docs/api-reference/legacy/crm/associations/associate-records/batch/get-associations
 *   (results[].{from.id, to[].{toObjectId, associationTypes[]}, paging only when more}).
 * - error bodies: developers.hubspot.com "API usage guidelines and limits" (429 body and X-HubSpot-RateLimit-*
 *   headers), the `ModelError` model (status, message, correlationId, category, subCategory?, context?,
 *   errors?), and 401 / VALIDATION_ERROR bodies as HubSpot returns them (quoted in hubspot-api-nodejs issues).
 */
import { randomUUID } from 'node:crypto';
import { LAST_MODIFIED, type ObjectType, type PropertyDefinition, type PropertyGroup, type SandboxData, type StoredObject } from './store.js';

export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  associations?: Record<string, { results: { id: string; type: string }[] }>;
}

/** What HubSpot answers when `properties` is not given (the list and search endpoints). */
export const DEFAULT_PROPERTIES: Readonly<Record<ObjectType, readonly string[]>> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
};

/** The object singular HubSpot uses in messages ("CONTACT", "DEAL"). */
export const SINGULAR: Readonly<Record<ObjectType, string>> = { contacts: 'CONTACT', deals: 'DEAL' };

/**
 * Resolves the requested property names: unknown names are dropped (HubSpot ignores them silently);
 * hs_object_id, createdate and the last-modified property are always included.
 */
export function resolveProperties(data: SandboxData, type: ObjectType, requested: readonly string[] | undefined): string[] {
  const names = requested && requested.length > 0 ? requested : DEFAULT_PROPERTIES[type];
  const out = new Set<string>();
  for (const n of names) if (data.getProperty(type, n)) out.add(n);
  out.add('hs_object_id');
  out.add('createdate');
  out.add(LAST_MODIFIED[type]);
  return [...out];
}

export function toHubSpotObject(data: SandboxData, type: ObjectType, r: StoredObject, properties: readonly string[]): HubSpotObject {
  const props: Record<string, string | null> = {};
  for (const name of properties) props[name] = data.propertyValue(type, r, name);
  const o: HubSpotObject = {
    id: String(r.id),
    properties: props,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    archived: r.archivedAt !== null,
  };
  if (r.archivedAt !== null) o.archivedAt = new Date(r.archivedAt).toISOString();
  return o;
}

export function toHubSpotProperty(p: PropertyDefinition): Record<string, unknown> {
  const { readOnlyValue, hubspotDefined, ...rest } = p;
  const out: Record<string, unknown> = {
    ...rest,
    modificationMetadata: { archivable: !hubspotDefined, readOnlyDefinition: Boolean(hubspotDefined), readOnlyValue },
  };
  if (hubspotDefined) out.hubspotDefined = true;
  return out;
}

export function toHubSpotGroup(g: PropertyGroup): PropertyGroup {
  return { name: g.name, label: g.label, displayOrder: g.displayOrder, archived: g.archived };
}

export function correlationId(): string {
  return randomUUID();
}

/** The standard error body (`ModelError`): status "error", message, correlationId, category, extras. */
export function errorBody(message: string, category: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { status: 'error', message, correlationId: correlationId(), category, ...extra };
}

/** HubSpot's 401 body for a missing or unknown token. */
export function authErrorBody(): Record<string, unknown> {
  return errorBody(
    'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
    'INVALID_AUTHENTICATION',
  );
}

/** HubSpot's 429 bodies: the ten-secondly rolling limit and the search API's per-second limit. */
export function rateLimitBody(policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY'): Record<string, unknown> {
  return {
    status: 'error',
    message: policy === 'TEN_SECONDLY_ROLLING' ? 'You have reached your ten_secondly_rolling limit.' : 'You have reached your secondly limit.',
    errorType: 'RATE_LIMIT',
    correlationId: correlationId(),
    policyName: policy,
  };
}

/** A property validation failure, the way HubSpot's v3 object endpoints report them. */
export interface PropertyValidation {
  isValid: false;
  message: string;
  error: 'PROPERTY_DOESNT_EXIST' | 'READ_ONLY_VALUE' | 'INVALID_OPTION';
  name: string;
  localizedErrorMessage: string;
  portalId: number;
}

export function propertyValidationBody(failures: PropertyValidation[]): Record<string, unknown> {
  return errorBody(`Property values were not valid: ${JSON.stringify(failures)}`, 'VALIDATION_ERROR');
}

/** The bodies of an upstream 5xx: HubSpot's edge answers 502/504 with HTML, the API 500/503 with JSON. */
export function serverErrorResponse(status: number): { contentType: string; body: string } {
  if (status === 502 || status === 504) {
    const title = status === 502 ? '502 Bad Gateway' : '504 Gateway Time-out';
    return {
      contentType: 'text/html',
      body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
    };
  }
  const message = status === 503 ? 'Service Unavailable' : 'internal error';
  return { contentType: 'application/json;charset=utf-8', body: JSON.stringify(errorBody(message, status === 503 ? 'SERVICE_UNAVAILABLE' : 'INTERNAL_ERROR')) };
}
