/**
 * `POST /webhooks`: HubSpot's batched CRM events, at least once and in no particular order.
 *
 * 1. The v3 signature is checked over the raw body (401 with the reason logged, never the body).
 * 2. The JSON array is parsed; events HubSpot sent before (same eventId, remembered in the ledger) drop.
 * 3. Per object, only the newest event counts (by occurredAt; a deletion wins a tie), and only if it is
 *    newer than the newest event already applied to that object: a late creation cannot resurrect a
 *    deleted contact, and a late property change causes no second resync.
 * 4. The surviving objects go to the injected callbacks, grouped per portal: resyncContacts, resyncDeals,
 *    deleteContacts (and deleteDeals when given, else deleted deals are resynced). Callbacks should enqueue
 *    work and return quickly: HubSpot expects an answer within 5 seconds.
 * 5. Only after the callbacks succeed are the event ids and watermarks recorded, so a failure answers 500
 *    and HubSpot's retry runs the same events again.
 *
 * Subscription types understood: contact.* and deal.* (creation, propertyChange, deletion, restore, merge,
 * associationChange), contact.privacyDeletion, and the 2025.2 generic `object.*` with objectTypeId 0-1
 * (contacts) / 0-3 (deals). Others are acknowledged and ignored.
 */
import { BodyTooLargeError, readBody, sendJson, type RouteHandler } from '../oauth/http.js';
import type { Watermark, WebhookLedger } from './ledger.js';
import { requestUri, signatureHeaders, verifySignatureV3 } from './signature.js';

export interface WebhookCallbacks {
  resyncContacts(portalId: string, ids: string[]): Promise<void>;
  resyncDeals(portalId: string, ids: string[]): Promise<void>;
  deleteContacts(portalId: string, ids: string[]): Promise<void>;
  /** Optional: without it, deleted deals are resynced (the sync sees them gone). */
  deleteDeals?(portalId: string, ids: string[]): Promise<void>;
}

export interface WebhookHandlerOptions {
  clientSecret: string;
  ledger: WebhookLedger;
  callbacks: WebhookCallbacks;
  /** The public origin HubSpot calls (the webhooks targetUrl's origin); default from the Host header. */
  publicBaseUrl?: string;
  /** Default '/webhooks'. */
  path?: string;
  now?: () => number;
  log?: (line: string) => void;
  /** Default 1 MB (HubSpot batches at most 100 events). */
  maxBodyBytes?: number;
}

export type ObjectKind = 'contact' | 'deal';
export type Action = 'resync' | 'delete';

/** One event reduced to what the handler acts on. */
export interface ParsedEvent {
  eventId: string;
  portalId: string;
  occurredAt: number;
  kind: ObjectKind;
  objectId: string;
  action: Action;
  /** Extra objects to resync (association changes, merges) outside the per-object ordering. */
  touches: { kind: ObjectKind; id: string; action: Action }[];
}

export interface WebhookSummary {
  received: number;
  duplicates: number;
  stale: number;
  ignored: number;
  applied: { resyncContacts: number; resyncDeals: number; deleteContacts: number; deleteDeals: number };
}

const TYPE_IDS: Record<string, ObjectKind> = { '0-1': 'contact', '0-3': 'deal' };

function id(v: unknown): string | null {
  if (typeof v === 'number' && Number.isFinite(v)) return String(Math.trunc(v));
  if (typeof v === 'string' && /^\d+$/.test(v)) return v;
  return null;
}

/** Parses one event; null for a type we do not act on. Throws for a malformed event. */
export function parseEvent(raw: unknown, index: number): ParsedEvent | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`event ${index} is not an object`);
  const e = raw as Record<string, unknown>;
  const eventId = id(e.eventId);
  const portalId = id(e.portalId);
  const occurredAt = typeof e.occurredAt === 'number' ? e.occurredAt : Number.NaN;
  const type = typeof e.subscriptionType === 'string' ? e.subscriptionType : '';
  if (eventId === null) throw new Error(`event ${index} has no numeric eventId`);
  if (portalId === null) throw new Error(`event ${index} (${eventId}) has no numeric portalId`);
  if (!Number.isFinite(occurredAt)) throw new Error(`event ${index} (${eventId}) has no numeric occurredAt`);
  const [prefix, verb] = type.split('.') as [string, string | undefined];
  let kind: ObjectKind | undefined;
  if (prefix === 'contact' || prefix === 'deal') kind = prefix;
  else if (prefix === 'object') kind = TYPE_IDS[String(e.objectTypeId ?? '')];
  if (kind === undefined || verb === undefined) return null;
  const objectId = id(e.objectId);
  const touches: ParsedEvent['touches'] = [];
  let action: Action;
  switch (verb) {
    case 'creation':
    case 'propertyChange':
    case 'restore':
      action = 'resync';
      break;
    case 'deletion':
    case 'privacyDeletion':
      action = 'delete';
      break;
    case 'merge': {
      // The merged-away records disappear; the surviving one (objectId / primaryObjectId) changed.
      action = 'resync';
      const primary = id(e.primaryObjectId) ?? objectId;
      for (const m of Array.isArray(e.mergedObjectIds) ? e.mergedObjectIds : []) {
        const mid = id(m);
        if (mid !== null && mid !== primary) touches.push({ kind, id: mid, action: 'delete' });
      }
      break;
    }
    case 'associationChange': {
      const assoc = String(e.associationType ?? '').toUpperCase();
      const from = id(e.fromObjectId);
      const to = id(e.toObjectId);
      if (from === null || to === null) return null;
      let fromKind: ObjectKind;
      if (assoc.startsWith('CONTACT_TO_DEAL')) fromKind = 'contact';
      else if (assoc.startsWith('DEAL_TO_CONTACT')) fromKind = 'deal';
      else return null;
      touches.push({ kind: fromKind === 'contact' ? 'deal' : 'contact', id: to, action: 'resync' });
      return { eventId, portalId, occurredAt, kind: fromKind, objectId: from, action: 'resync', touches };
    }
    default:
      return null;
  }
  if (objectId === null) throw new Error(`event ${index} (${eventId}) has no numeric objectId`);
  return { eventId, portalId, occurredAt, kind, objectId, action, touches };
}

const rank = (a: Action): number => (a === 'delete' ? 1 : 0);

/** Newer wins; at the same time a deletion wins. */
function newer(a: { occurredAt: number; action: Action }, b: { occurredAt: number; action: Action }): boolean {
  return a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && rank(a.action) > rank(b.action));
}

export function createWebhookHandler(options: WebhookHandlerOptions): RouteHandler {
  const now = options.now ?? Date.now;
  const path = options.path ?? '/webhooks';
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const { ledger, callbacks, log } = options;
  // One batch per portal at a time, so two deliveries of the same events cannot both pass the ledger.
  const queues = new Map<string, Promise<unknown>>();
  const serial = <T>(portalId: string, fn: () => Promise<T>): Promise<T> => {
    const prev = queues.get(portalId) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    queues.set(portalId, tail);
    void tail.then(() => {
      if (queues.get(portalId) === tail) queues.delete(portalId);
    });
    return next;
  };

  const applyPortal = async (portalId: string, events: ParsedEvent[], summary: WebhookSummary): Promise<void> => {
    const seen = await ledger.seen(portalId, events.map((e) => e.eventId));
    const fresh: ParsedEvent[] = [];
    const ids = new Set<string>();
    for (const e of events) {
      // Duplicates within the batch count like redeliveries.
      if (seen.has(e.eventId) || ids.has(e.eventId)) summary.duplicates++;
      else {
        ids.add(e.eventId);
        fresh.push(e);
      }
    }
    if (fresh.length === 0) return;

    const latest = new Map<string, ParsedEvent>();
    for (const e of fresh) {
      const key = `${e.kind}:${e.objectId}`;
      const cur = latest.get(key);
      if (!cur || newer(e, cur)) latest.set(key, e);
    }
    const touchKeys = fresh.flatMap((e) => e.touches.map((t) => `${t.kind}:${t.id}`));
    const marks = await ledger.watermarks(portalId, [...new Set([...latest.keys(), ...touchKeys])]);
    const advanced = new Map<string, Watermark>();
    const todo = { contact: { resync: new Set<string>(), delete: new Set<string>() }, deal: { resync: new Set<string>(), delete: new Set<string>() } };
    for (const [key, e] of latest) {
      const w = marks.get(key);
      if (w && !newer(e, { occurredAt: w.occurredAt, action: w.deleted ? 'delete' : 'resync' })) {
        summary.stale++;
        continue;
      }
      advanced.set(key, { occurredAt: e.occurredAt, deleted: e.action === 'delete' });
      todo[e.kind][e.action].add(e.objectId);
    }
    // Side effects (the other end of an association, records merged away) skip objects deleted later.
    for (const e of fresh) {
      for (const t of e.touches) {
        const w = advanced.get(`${t.kind}:${t.id}`) ?? marks.get(`${t.kind}:${t.id}`);
        if (t.action === 'resync' && w?.deleted && w.occurredAt >= e.occurredAt) continue;
        todo[t.kind][t.action].add(t.id);
      }
    }
    for (const k of ['contact', 'deal'] as const) for (const d of todo[k].delete) todo[k].resync.delete(d);

    const sorted = (s: Set<string>): string[] => [...s].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
    const deleteContacts = sorted(todo.contact.delete);
    const resyncContacts = sorted(todo.contact.resync);
    const deleteDeals = sorted(todo.deal.delete);
    let resyncDeals = sorted(todo.deal.resync);
    if (deleteContacts.length > 0) await callbacks.deleteContacts(portalId, deleteContacts);
    if (deleteDeals.length > 0) {
      if (callbacks.deleteDeals) await callbacks.deleteDeals(portalId, deleteDeals);
      else resyncDeals = sorted(new Set([...resyncDeals, ...deleteDeals]));
    }
    if (resyncContacts.length > 0) await callbacks.resyncContacts(portalId, resyncContacts);
    if (resyncDeals.length > 0) await callbacks.resyncDeals(portalId, resyncDeals);
    summary.applied.deleteContacts += deleteContacts.length;
    summary.applied.resyncContacts += resyncContacts.length;
    summary.applied.deleteDeals += callbacks.deleteDeals ? deleteDeals.length : 0;
    summary.applied.resyncDeals += resyncDeals.length;
    await ledger.commit(portalId, fresh.map((e) => ({ eventId: e.eventId, occurredAt: e.occurredAt })), advanced);
  };

  return async (req, res, url) => {
    if (url.pathname !== path || (req.method ?? 'GET') !== 'POST') return false;
    let body: string;
    try {
      body = await readBody(req, limit);
    } catch (e) {
      if (e instanceof BodyTooLargeError) {
        log?.(`webhooks: refused a body over ${limit} bytes`);
        sendJson(res, 413, { error: { code: 'TOO_LARGE', message: e.message } });
        return true;
      }
      throw e;
    }
    const check = verifySignatureV3({
      method: 'POST',
      uri: requestUri(req, options.publicBaseUrl),
      body,
      ...signatureHeaders(req),
      clientSecret: options.clientSecret,
      now: now(),
    });
    if (!check.ok) {
      log?.(`webhooks: refused a delivery: signature ${check.reason}`);
      sendJson(res, 401, { error: { code: 'BAD_SIGNATURE', message: `signature refused: ${check.reason}` } });
      return true;
    }

    let events: ParsedEvent[];
    const summary: WebhookSummary = { received: 0, duplicates: 0, stale: 0, ignored: 0, applied: { resyncContacts: 0, resyncDeals: 0, deleteContacts: 0, deleteDeals: 0 } };
    try {
      const raw: unknown = JSON.parse(body);
      if (!Array.isArray(raw)) throw new Error('the body is not a JSON array of events');
      summary.received = raw.length;
      events = [];
      raw.forEach((r, i) => {
        const e = parseEvent(r, i);
        if (e) events.push(e);
        else summary.ignored++;
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log?.(`webhooks: refused a malformed delivery: ${message}`);
      sendJson(res, 400, { error: { code: 'MALFORMED', message } });
      return true;
    }

    const byPortal = new Map<string, ParsedEvent[]>();
    for (const e of events) {
      const list = byPortal.get(e.portalId) ?? [];
      list.push(e);
      byPortal.set(e.portalId, list);
    }
    try {
      for (const [portalId, list] of byPortal) await serial(portalId, () => applyPortal(portalId, list, summary));
    } catch (e) {
      log?.(`webhooks: processing failed, HubSpot will retry: ${e instanceof Error ? e.message : String(e)}`);
      sendJson(res, 500, { error: { code: 'PROCESSING_FAILED', message: 'processing failed; the delivery can be retried' } });
      return true;
    }
    log?.(`webhooks: ${summary.received} events: ${summary.duplicates} duplicate, ${summary.stale} stale, ${summary.ignored} ignored`);
    sendJson(res, 200, summary);
    return true;
  };
}
