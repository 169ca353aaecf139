/**
 * CRM changes a webhook delivery announces, applied to one portal's store: the changed contacts and deals
 * are read again (batch read, 100 ids a request, and their associations, 1,000 a request), deletions remove
 * the records and their associations. Records HubSpot no longer returns count as deleted. All writes of
 * one call commit in one transaction, after every read succeeded, so a failure leaves the store as it was.
 */
import type { AppConfig } from '../config.js';
import type { HubSpotClient } from '../hubspot/client.js';
import { propertiesFor, toStoredRecord } from '../hubspot/mapping.js';
import type { HubSpotObject, ObjectType } from '../hubspot/types.js';
import type { Store, StoredRecord } from '../store.js';

export interface CrmChanges {
  resyncContacts?: readonly string[];
  resyncDeals?: readonly string[];
  deleteContacts?: readonly string[];
  deleteDeals?: readonly string[];
}

export interface AppliedChanges {
  /** Contacts whose features may have changed (re-read, or linked to a changed or deleted deal), still stored. */
  affectedContacts: string[];
  /** Contacts removed from the store (deleted, or gone from HubSpot). */
  removedContacts: string[];
  upserted: { contacts: number; deals: number };
  deleted: { contacts: number; deals: number };
}

export interface ResyncContext {
  client: Pick<HubSpotClient, 'batchRead' | 'associationsBatchRead'>;
  store: Store;
  config: Pick<AppConfig, 'satisfactionProperty' | 'distanceProperty'>;
}

const BATCH_READ = 100;
const ASSOC_READ = 1000;

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Reads records by id; ids HubSpot does not return (deleted, archived) come back in `missing`. */
async function readObjects(
  ctx: ResyncContext,
  type: ObjectType,
  ids: readonly string[],
): Promise<{ found: StoredRecord[]; missing: string[] }> {
  const found: StoredRecord[] = [];
  const seen = new Set<string>();
  for (const batch of chunks(ids, BATCH_READ)) {
    const res = await ctx.client.batchRead(type, batch, propertiesFor(type, ctx.config));
    for (const obj of res.results as HubSpotObject[]) {
      if (obj.archived) continue;
      const record = toStoredRecord(type, obj);
      seen.add(record.id);
      found.push(record);
    }
  }
  return { found, missing: ids.filter((id) => !seen.has(id)) };
}

async function readAssociations(ctx: ResyncContext, from: ObjectType, to: ObjectType, ids: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const batch of chunks(ids, ASSOC_READ)) {
    for (const [id, list] of await ctx.client.associationsBatchRead(from, to, batch)) out.set(id, list);
  }
  return out;
}

const unique = (list: readonly string[] | undefined): string[] => [...new Set((list ?? []).map(String))];

export async function applyCrmChanges(ctx: ResyncContext, changes: CrmChanges): Promise<AppliedChanges> {
  const { store } = ctx;
  const deleteContacts = new Set(unique(changes.deleteContacts));
  const deleteDeals = new Set(unique(changes.deleteDeals));
  const resyncContacts = unique(changes.resyncContacts).filter((id) => !deleteContacts.has(id));
  const resyncDeals = unique(changes.resyncDeals).filter((id) => !deleteDeals.has(id));

  // Who is linked to which deal before the change: contacts of a changed or deleted deal are affected.
  const before = await store.associations();
  const contactsOfDeal = new Map<string, Set<string>>();
  for (const [contact, deals] of Object.entries(before)) {
    for (const d of deals) {
      const set = contactsOfDeal.get(d) ?? new Set<string>();
      set.add(contact);
      contactsOfDeal.set(d, set);
    }
  }
  const affected = new Set<string>();

  // --- reads (nothing is written until all of them succeeded) ---------------------------------------------
  const contacts = await readObjects(ctx, 'contacts', resyncContacts);
  for (const id of contacts.missing) deleteContacts.add(id);
  const contactDeals = await readAssociations(ctx, 'contacts', 'deals', contacts.found.map((r) => r.id));

  const deals = await readObjects(ctx, 'deals', resyncDeals);
  for (const id of deals.missing) deleteDeals.add(id);
  const dealContacts = await readAssociations(ctx, 'deals', 'contacts', deals.found.map((r) => r.id));

  // Deals the re-read contacts link to that the store lacks (created with the contact) are read too.
  const knownDeals = new Set((await store.allDeals()).map((d) => String(d.id)));
  for (const r of deals.found) knownDeals.add(r.id);
  const newDealIds = [...new Set([...contactDeals.values()].flat())].filter((d) => !knownDeals.has(d) && !deleteDeals.has(d));
  const newDeals = await readObjects(ctx, 'deals', newDealIds);

  // Contacts the changed deals now link to that the store lacks are read as well.
  const knownContacts = new Set((await store.allContacts()).map((c) => String(c.id)));
  for (const r of contacts.found) knownContacts.add(r.id);
  const newContactIds = [...new Set([...dealContacts.values()].flat())].filter((c) => !knownContacts.has(c) && !deleteContacts.has(c));
  const extraContacts = await readObjects(ctx, 'contacts', newContactIds);

  // --- writes, in one transaction --------------------------------------------------------------------------
  for (const r of contacts.found) affected.add(r.id);
  for (const r of extraContacts.found) affected.add(r.id);
  for (const d of [...resyncDeals, ...deleteDeals]) for (const c of contactsOfDeal.get(d) ?? []) affected.add(c);
  for (const list of dealContacts.values()) for (const c of list) affected.add(c);
  for (const c of deleteContacts) affected.delete(c);

  let deletedContacts = 0;
  let deletedDeals = 0;
  await store.transaction(async () => {
    if (deleteContacts.size > 0) deletedContacts = await store.deleteContacts([...deleteContacts]);
    if (deleteDeals.size > 0) deletedDeals = await store.deleteDeals([...deleteDeals]);
    await store.upsertContacts([...contacts.found, ...extraContacts.found]);
    await store.upsertDeals([...deals.found, ...newDeals.found]);
    if (contactDeals.size > 0) await store.replaceAssociations(contactDeals);
    if (dealContacts.size > 0) await store.replaceDealAssociations(dealContacts);
  });

  return {
    affectedContacts: [...affected],
    removedContacts: [...deleteContacts],
    upserted: { contacts: contacts.found.length + extraContacts.found.length, deals: deals.found.length + newDeals.found.length },
    deleted: { contacts: deletedContacts, deals: deletedDeals },
  };
}
