/**
 * HubSpot CRM API shapes the connector reads and writes (developers.hubspot.com, CRM objects v3,
 * search, associations v4, properties; field names as in @hubspot/api-client's generated models).
 */

export type ObjectType = 'contacts' | 'deals';

/** SimplePublicObject / SimplePublicObjectWithAssociations. */
export interface HubSpotObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  archivedAt?: string;
}

export interface Paging {
  next?: { after: string; link?: string };
}

/** CollectionResponseSimplePublicObjectWithAssociationsForwardPaging. */
export interface ListPage {
  results: HubSpotObject[];
  paging?: Paging;
}

/** BatchResponseSimplePublicObject (200) or ...WithErrors (207). */
export interface BatchResponse<T = HubSpotObject> {
  status: string;
  results: T[];
  errors?: unknown[];
  numErrors?: number;
  startedAt?: string;
  completedAt?: string;
}

export type FilterOperator =
  | 'EQ' | 'NEQ' | 'LT' | 'LTE' | 'GT' | 'GTE' | 'BETWEEN' | 'IN' | 'NOT_IN'
  | 'HAS_PROPERTY' | 'NOT_HAS_PROPERTY' | 'CONTAINS_TOKEN' | 'NOT_CONTAINS_TOKEN';

export interface Filter {
  propertyName: string;
  operator: FilterOperator;
  value?: string;
  highValue?: string;
  values?: string[];
}

/** PublicObjectSearchRequest. */
export interface SearchRequest {
  filterGroups?: { filters: Filter[] }[];
  sorts?: ({ propertyName: string; direction: 'ASCENDING' | 'DESCENDING' } | string)[];
  properties?: string[];
  limit?: number;
  after?: string;
  query?: string;
}

/** CollectionResponseWithTotalSimplePublicObjectForwardPaging. */
export interface SearchPage {
  total: number;
  results: HubSpotObject[];
  paging?: Paging;
}

/** v4 MultiAssociatedObjectWithLabel. */
export interface AssociationResult {
  from: { id: string };
  to: { toObjectId: string | number; associationTypes?: { category: string; typeId: number; label: string | null }[] }[];
  paging?: Paging;
}

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder?: number;
  hidden?: boolean;
  description?: string;
}

/** Property (GET /crm/v3/properties/{objectType}/{name}). */
export interface Property {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  description?: string;
  options?: PropertyOption[];
  displayOrder?: number;
  hidden?: boolean;
  formField?: boolean;
  hasUniqueValue?: boolean;
  [key: string]: unknown;
}

/** PropertyCreate. */
export interface PropertyCreate {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
  fieldType: 'text' | 'textarea' | 'number' | 'date' | 'select' | 'radio' | 'checkbox' | 'booleancheckbox' | 'calculation_equation';
  groupName: string;
  description?: string;
  options?: PropertyOption[];
  displayOrder?: number;
  hasUniqueValue?: boolean;
  hidden?: boolean;
  formField?: boolean;
}

/** PropertyUpdate: every field optional. */
export type PropertyUpdate = Partial<Omit<PropertyCreate, 'name'>>;

/** PropertyGroupCreate. */
export interface PropertyGroupCreate {
  name: string;
  label: string;
  displayOrder?: number;
}

export interface PropertyGroup extends PropertyGroupCreate {
  archived?: boolean;
}

/** SimplePublicObjectBatchInput. */
export interface BatchUpdateInput {
  id: string;
  properties: Record<string, string>;
}

/** GET /oauth/v1/access-tokens/{token}. */
export interface TokenInfo {
  token?: string;
  user?: string;
  hub_id: number;
  hub_domain?: string;
  scopes?: string[];
  token_type?: string;
  expires_in?: number;
  app_id?: number;
  user_id?: number;
  [key: string]: unknown;
}
