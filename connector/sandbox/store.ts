/**
 * The sandbox portal's data: contacts, deals, contact-deal associations and property definitions, in
 * memory, with the indexes the HTTP layer needs to answer a page without scanning (ids kept sorted, so a
 * page is a binary search plus a slice).
 *
 * Records hold only their own properties; `hs_object_id`, `createdate` and the last-modified property
 * (`lastmodifieddate` on contacts, `hs_lastmodifieddate` on deals, as HubSpot names them) are derived from
 * the record's id and timestamps when read, so they can never disagree.
 */
import type { Archetype } from '../../src/types.js';
import { generatePortal, type SeedOptions } from './seed.js';

export type ObjectType = 'contacts' | 'deals';
export const OBJECT_TYPES: readonly ObjectType[] = ['contacts', 'deals'];

export interface StoredObject {
  id: number;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms; bumped by every update. */
  updatedAt: number;
  /** Epoch ms when archived, else null. */
  archivedAt: number | null;
  properties: Record<string, string | null>;
}

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';

export interface PropertyOption {
  label: string;
  value: string;
  description?: string;
  displayOrder?: number;
  hidden: boolean;
}

/** A property definition, in the shape of @hubspot/api-client's `crm/properties/models/Property`. */
export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: string;
  groupName: string;
  description: string;
  options: PropertyOption[];
  displayOrder: number;
  hasUniqueValue: boolean;
  hidden: boolean;
  formField: boolean;
  calculated: boolean;
  externalOptions: boolean;
  hubspotDefined?: boolean;
  /** HubSpot marks system values read-only (`modificationMetadata.readOnlyValue`). */
  readOnlyValue: boolean;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** A property group, in the shape of `crm/properties/models/PropertyGroup`. */
export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

/** The derived property holding the last-modified time, per object type (HubSpot's names). */
export const LAST_MODIFIED: Readonly<Record<ObjectType, string>> = {
  contacts: 'lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};

/** Properties computed from the record itself, never stored. */
export function isDerived(type: ObjectType, name: string): boolean {
  return name === 'hs_object_id' || name === 'createdate' || name === LAST_MODIFIED[type];
}

/** The first index in sorted `ids` whose value is >= x. */
export function lowerBound(ids: readonly number[], x: number): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Record ids as the API spells them (strings) or as stored (numbers). */
export type IdLike = number | string;

function toId(id: IdLike): number {
  return typeof id === 'number' ? id : /^\d{1,15}$/.test(id) ? Number(id) : NaN;
}

function removeSorted(ids: number[], id: number): void {
  const i = lowerBound(ids, id);
  if (ids[i] === id) ids.splice(i, 1);
}

function insertSorted(ids: number[], id: number): void {
  if (ids.length === 0 || ids[ids.length - 1]! < id) ids.push(id);
  else ids.splice(lowerBound(ids, id), 0, id);
}

/** One object type's records with sorted id indexes. */
export class ObjectCollection {
  readonly byId = new Map<number, StoredObject>();
  /** Ids of live records, ascending. */
  readonly activeIds: number[] = [];
  /** Ids of archived records, ascending. */
  readonly archivedIds: number[] = [];
  nextId: number;

  constructor(readonly type: ObjectType, readonly firstId: number) {
    this.nextId = firstId;
  }

  get(id: number): StoredObject | undefined {
    return this.byId.get(id);
  }

  /** Adds a record as is (used by generation and loading); keeps the indexes sorted. */
  put(record: StoredObject): void {
    this.byId.set(record.id, record);
    insertSorted(record.archivedAt === null ? this.activeIds : this.archivedIds, record.id);
    if (record.id >= this.nextId) this.nextId = record.id + 1;
  }

  archive(id: number, at: number): boolean {
    const r = this.byId.get(id);
    if (!r || r.archivedAt !== null) return false;
    r.archivedAt = at;
    r.updatedAt = Math.max(at, r.updatedAt);
    removeSorted(this.activeIds, id);
    insertSorted(this.archivedIds, id);
    return true;
  }

  clear(): void {
    this.byId.clear();
    this.activeIds.length = 0;
    this.archivedIds.length = 0;
    this.nextId = this.firstId;
  }
}

export interface DataChange {
  kind: 'contacts' | 'deals' | 'associations' | 'properties';
}

/** Ids start far apart so a contact id used as a deal id (a classic connector bug) finds nothing. */
const FIRST_CONTACT_ID = 1001;
const FIRST_DEAL_ID = 20_000_001;

/**
 * The portal's data. Methods taking `at` use it as the modification time (epoch ms); by default the
 * clock given to the constructor, never earlier than the record's previous modification + 1 ms, so
 * `lastmodifieddate` strictly increases on every update.
 */
export class SandboxData {
  readonly contacts = new ObjectCollection('contacts', FIRST_CONTACT_ID);
  readonly deals = new ObjectCollection('deals', FIRST_DEAL_ID);
  /** contact id -> deal ids (ascending insertion = ascending id for generated data). */
  readonly contactDeals = new Map<number, number[]>();
  /** deal id -> contact ids. */
  readonly dealContacts = new Map<number, number[]>();
  readonly propertyDefs: Record<ObjectType, Map<string, PropertyDefinition>> = { contacts: new Map(), deals: new Map() };
  readonly propertyGroups: Record<ObjectType, Map<string, PropertyGroup>> = { contacts: new Map(), deals: new Map() };
  /** Ground-truth archetype of generated contacts (not a HubSpot property; for tests and the bench). */
  readonly truth = new Map<number, Archetype>();
  /** Bumped by every mutation: search caches key on it. */
  version = 0;
  /** Bumped by mutations of one object type (a write-back to contacts keeps the deals' indexes valid). */
  readonly typeVersion: Record<ObjectType, number> = { contacts: 0, deals: 0 };
  private listeners: ((change: DataChange) => void)[] = [];

  constructor(private readonly clock: () => number = Date.now) {
    this.installDefaultProperties();
  }

  /** Called after every mutation (persistence marks the kind dirty). */
  onChange(listener: (change: DataChange) => void): void {
    this.listeners.push(listener);
  }

  changed(kind: DataChange['kind']): void {
    this.version++;
    if (kind === 'contacts' || kind === 'deals') this.typeVersion[kind]++;
    for (const l of this.listeners) l({ kind });
  }

  collection(type: ObjectType): ObjectCollection {
    return type === 'contacts' ? this.contacts : this.deals;
  }

  // ---- objects -------------------------------------------------------------------------------------

  create(type: ObjectType, properties: Record<string, string | null>, at?: number): StoredObject {
    const c = this.collection(type);
    const now = at ?? this.clock();
    const record: StoredObject = { id: c.nextId, createdAt: now, updatedAt: now, archivedAt: null, properties: {} };
    for (const [k, v] of Object.entries(properties)) if (!isDerived(type, k)) record.properties[k] = v === '' ? null : v;
    c.put(record);
    this.changed(type);
    return record;
  }

  /** Sets properties ('' clears) and bumps the last-modified time. Throws for an unknown or archived id. */
  update(type: ObjectType, idLike: IdLike, properties: Record<string, string | null>, at?: number): StoredObject {
    const id = toId(idLike);
    const r = this.collection(type).get(id);
    if (!r || r.archivedAt !== null) throw new Error(`sandbox: no live ${type} with id ${id}`);
    for (const [k, v] of Object.entries(properties)) if (!isDerived(type, k)) r.properties[k] = v === '' ? null : v;
    r.updatedAt = Math.max(at ?? this.clock(), r.updatedAt + 1);
    this.changed(type);
    return r;
  }

  archive(type: ObjectType, idLike: IdLike, at?: number): boolean {
    const id = toId(idLike);
    const c = this.collection(type);
    const r = c.get(id);
    if (!r) return false;
    const ok = c.archive(id, Math.max(at ?? this.clock(), r.updatedAt + 1));
    if (ok) this.changed(type);
    return ok;
  }

  get(type: ObjectType, id: IdLike): StoredObject | undefined {
    return this.collection(type).get(toId(id));
  }

  list(type: ObjectType, options: { archived?: boolean } = {}): StoredObject[] {
    const c = this.collection(type);
    const ids = options.archived ? c.archivedIds : c.activeIds;
    return ids.map((id) => c.byId.get(id)!);
  }

  createContact(properties: Record<string, string | null>, at?: number): StoredObject {
    return this.create('contacts', properties, at);
  }
  updateContact(id: IdLike, properties: Record<string, string | null>, at?: number): StoredObject {
    return this.update('contacts', id, properties, at);
  }
  archiveContact(id: IdLike, at?: number): boolean {
    return this.archive('contacts', id, at);
  }
  getContact(id: IdLike): StoredObject | undefined {
    return this.get('contacts', id);
  }
  listContacts(options: { archived?: boolean } = {}): StoredObject[] {
    return this.list('contacts', options);
  }
  createDeal(properties: Record<string, string | null>, at?: number): StoredObject {
    return this.create('deals', properties, at);
  }
  updateDeal(id: IdLike, properties: Record<string, string | null>, at?: number): StoredObject {
    return this.update('deals', id, properties, at);
  }
  archiveDeal(id: IdLike, at?: number): boolean {
    return this.archive('deals', id, at);
  }
  getDeal(id: IdLike): StoredObject | undefined {
    return this.get('deals', id);
  }
  listDeals(options: { archived?: boolean } = {}): StoredObject[] {
    return this.list('deals', options);
  }

  /** Reads one property as the API shows it: derived ones computed, unset ones null. */
  propertyValue(type: ObjectType, r: StoredObject, name: string): string | null {
    if (name === 'hs_object_id') return String(r.id);
    if (name === 'createdate') return new Date(r.createdAt).toISOString();
    if (name === LAST_MODIFIED[type]) return new Date(r.updatedAt).toISOString();
    return r.properties[name] ?? null;
  }

  // ---- associations (contact -> deal, HubSpot-defined type 4) --------------------------------------

  associate(contactIdLike: IdLike, dealIdLike: IdLike): void {
    const contactId = toId(contactIdLike);
    const dealId = toId(dealIdLike);
    if (!this.contacts.get(contactId)) throw new Error(`sandbox: no contact ${contactId}`);
    if (!this.deals.get(dealId)) throw new Error(`sandbox: no deal ${dealId}`);
    if (this.link(contactId, dealId)) this.changed('associations');
  }

  /** Adds the pair without notifying (bulk loading); false if it already existed. */
  link(contactId: number, dealId: number): boolean {
    let ds = this.contactDeals.get(contactId);
    if (!ds) this.contactDeals.set(contactId, (ds = []));
    if (ds.includes(dealId)) return false;
    insertSorted(ds, dealId);
    let cs = this.dealContacts.get(dealId);
    if (!cs) this.dealContacts.set(dealId, (cs = []));
    insertSorted(cs, contactId);
    return true;
  }

  dealsOf(contactId: IdLike): readonly number[] {
    return this.contactDeals.get(toId(contactId)) ?? [];
  }

  contactsOf(dealId: IdLike): readonly number[] {
    return this.dealContacts.get(toId(dealId)) ?? [];
  }

  groundTruth(contactId: IdLike): Archetype | undefined {
    return this.truth.get(toId(contactId));
  }

  counts(): { contacts: number; deals: number; associations: number; archivedContacts: number; archivedDeals: number } {
    let associations = 0;
    for (const ds of this.contactDeals.values()) associations += ds.length;
    return {
      contacts: this.contacts.activeIds.length, deals: this.deals.activeIds.length, associations,
      archivedContacts: this.contacts.archivedIds.length, archivedDeals: this.deals.archivedIds.length,
    };
  }

  // ---- properties -----------------------------------------------------------------------------------

  getProperty(type: ObjectType, name: string): PropertyDefinition | undefined {
    const p = this.propertyDefs[type].get(name);
    return p && !p.archived ? p : undefined;
  }

  // ---- generation -----------------------------------------------------------------------------------

  /** Replaces everything with a freshly generated portal. */
  generate(options: SeedOptions): void {
    this.contacts.clear();
    this.deals.clear();
    this.contactDeals.clear();
    this.dealContacts.clear();
    this.truth.clear();
    this.installDefaultProperties();
    const portal = generatePortal(options);
    const contactIds: number[] = [];
    for (const c of portal.contacts) {
      const id = this.contacts.nextId;
      this.contacts.put({ id, createdAt: c.createdAt, updatedAt: c.updatedAt, archivedAt: null, properties: c.properties });
      this.truth.set(id, c.archetype);
      contactIds.push(id);
    }
    // Deals get ids in close-date order, as a store that records orders as they happen would.
    const order = portal.deals.map((_, i) => i);
    order.sort((a, b) => portal.deals[a]!.createdAt - portal.deals[b]!.createdAt);
    for (const i of order) {
      const d = portal.deals[i]!;
      const id = this.deals.nextId;
      this.deals.put({ id, createdAt: d.createdAt, updatedAt: d.updatedAt, archivedAt: null, properties: d.properties });
      this.link(contactIds[d.contact]!, id);
    }
    this.changed('contacts');
    this.changed('deals');
    this.changed('associations');
    this.changed('properties');
  }

  installDefaultProperties(): void {
    for (const t of OBJECT_TYPES) {
      this.propertyDefs[t].clear();
      this.propertyGroups[t].clear();
    }
    const created = '2019-08-06T02:41:52.012Z';
    const group = (type: ObjectType, name: string, label: string, displayOrder: number): void => {
      this.propertyGroups[type].set(name, { name, label, displayOrder, archived: false });
    };
    group('contacts', 'contactinformation', 'Contact information', 0);
    group('contacts', 'sales_properties', 'Sales properties', 1);
    group('contacts', 'conversioninformation', 'Conversion information', 2);
    group('deals', 'dealinformation', 'Deal information', 0);
    const def = (type: ObjectType, name: string, label: string, ptype: PropertyType, fieldType: string,
      groupName: string, extra: Partial<PropertyDefinition> = {}): void => {
      this.propertyDefs[type].set(name, {
        name, label, type: ptype, fieldType, groupName, description: '', options: [], displayOrder: -1,
        hasUniqueValue: false, hidden: false, formField: false, calculated: false, externalOptions: false,
        hubspotDefined: true, readOnlyValue: false, createdAt: created, updatedAt: created, archived: false, ...extra,
      });
    };
    const ro = { readOnlyValue: true };
    for (const t of OBJECT_TYPES) {
      const g = t === 'contacts' ? 'contactinformation' : 'dealinformation';
      def(t, 'hs_object_id', 'Record ID', 'number', 'number', g, ro);
      def(t, 'createdate', 'Create Date', 'datetime', 'date', g, ro);
      def(t, LAST_MODIFIED[t], 'Last Modified Date', 'datetime', 'date', g, ro);
    }
    def('contacts', 'firstname', 'First Name', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'lastname', 'Last Name', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'email', 'Email', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'phone', 'Phone Number', 'string', 'phonenumber', 'contactinformation', { formField: true });
    def('contacts', 'city', 'City', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'state', 'State/Region', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'zip', 'Postal Code', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'country', 'Country/Region', 'string', 'text', 'contactinformation', { formField: true });
    def('contacts', 'company', 'Company Name', 'string', 'text', 'contactinformation', { formField: true });
    // HubSpot computes this from feedback submissions; writable here so tests can simulate a new survey.
    def('contacts', 'hs_feedback_last_nps_rating', 'Last NPS survey rating', 'number', 'number', 'contactinformation');
    def('contacts', 'lifecyclestage', 'Lifecycle Stage', 'enumeration', 'radio', 'contactinformation', {
      options: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer',
        'evangelist', 'other'].map((v, i) => ({ label: v, value: v, displayOrder: i, hidden: false })),
    });
    def('deals', 'dealname', 'Deal Name', 'string', 'text', 'dealinformation');
    def('deals', 'amount', 'Amount', 'number', 'number', 'dealinformation');
    def('deals', 'closedate', 'Close Date', 'datetime', 'date', 'dealinformation');
    def('deals', 'pipeline', 'Pipeline', 'enumeration', 'select', 'dealinformation', {
      options: [{ label: 'Sales Pipeline', value: 'default', displayOrder: 0, hidden: false }],
    });
    def('deals', 'dealstage', 'Deal Stage', 'enumeration', 'radio', 'dealinformation', {
      options: ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin',
        'contractsent', 'closedwon', 'closedlost'].map((v, i) => ({ label: v, value: v, displayOrder: i, hidden: false })),
    });
    def('deals', 'deal_currency_code', 'Currency', 'enumeration', 'select', 'dealinformation', {
      options: ['USD', 'UAH', 'EUR'].map((v, i) => ({ label: v, value: v, displayOrder: i, hidden: false })),
    });
  }
}
