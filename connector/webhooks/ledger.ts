/**
 * What the webhook handler remembers between deliveries, so redelivered and late events change nothing:
 * the event ids already processed (HubSpot delivers at least once) and, per CRM object, the time of the
 * newest event applied and whether it deleted the object (HubSpot delivers out of order).
 */
import type { Database } from '../db/database.js';

export interface Watermark {
  /** occurredAt (epoch ms) of the newest event applied to the object. */
  occurredAt: number;
  /** That event deleted the object. */
  deleted: boolean;
}

export interface WebhookLedger {
  /** Which of these event ids were already processed. */
  seen(portalId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Watermarks of these objects (keys like "contact:123"); absent = never seen. */
  watermarks(portalId: string, keys: readonly string[]): Promise<Map<string, Watermark>>;
  /** Records processed events and advanced watermarks (called only after the callbacks succeeded). */
  commit(portalId: string, events: readonly { eventId: string; occurredAt: number }[], watermarks: ReadonlyMap<string, Watermark>): Promise<void>;
  /** Forgets event ids older than `before` (epoch ms); watermarks stay. Returns how many. */
  prune(before: number): Promise<number>;
}

export class MemoryWebhookLedger implements WebhookLedger {
  private readonly events = new Map<string, number>();
  private readonly marks = new Map<string, Watermark>();

  seen(portalId: string, eventIds: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(eventIds.filter((id) => this.events.has(`${portalId}/${id}`))));
  }

  watermarks(portalId: string, keys: readonly string[]): Promise<Map<string, Watermark>> {
    const out = new Map<string, Watermark>();
    for (const k of keys) {
      const w = this.marks.get(`${portalId}/${k}`);
      if (w) out.set(k, { ...w });
    }
    return Promise.resolve(out);
  }

  commit(portalId: string, events: readonly { eventId: string; occurredAt: number }[], watermarks: ReadonlyMap<string, Watermark>): Promise<void> {
    for (const e of events) this.events.set(`${portalId}/${e.eventId}`, e.occurredAt);
    for (const [k, w] of watermarks) {
      const old = this.marks.get(`${portalId}/${k}`);
      if (!old || w.occurredAt >= old.occurredAt) this.marks.set(`${portalId}/${k}`, { ...w });
    }
    return Promise.resolve();
  }

  prune(before: number): Promise<number> {
    let n = 0;
    for (const [k, t] of this.events) {
      if (t < before) {
        this.events.delete(k);
        n++;
      }
    }
    return Promise.resolve(n);
  }
}

/** The ledger in the product database, PGlite or PostgreSQL (tables from oauth/migrations.ts). */
export class SqlWebhookLedger implements WebhookLedger {
  constructor(private readonly db: Database) {}

  async seen(portalId: string, eventIds: readonly string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const res = await this.db.query<{ event_id: string }>(
      'SELECT event_id FROM webhook_events WHERE portal_id = $1 AND event_id IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [portalId, JSON.stringify(eventIds)],
    );
    return new Set(res.rows.map((r) => r.event_id));
  }

  async watermarks(portalId: string, keys: readonly string[]): Promise<Map<string, Watermark>> {
    const out = new Map<string, Watermark>();
    if (keys.length === 0) return out;
    const res = await this.db.query<{ object_key: string; occurred_at: string | number | bigint; deleted: boolean }>(
      'SELECT object_key, occurred_at, deleted FROM webhook_watermarks WHERE portal_id = $1 AND object_key IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [portalId, JSON.stringify(keys)],
    );
    for (const r of res.rows) out.set(r.object_key, { occurredAt: Number(r.occurred_at), deleted: r.deleted });
    return out;
  }

  async commit(portalId: string, events: readonly { eventId: string; occurredAt: number }[], watermarks: ReadonlyMap<string, Watermark>): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (events.length > 0) {
        await tx.query(
          `INSERT INTO webhook_events (portal_id, event_id, occurred_at)
           SELECT $1, e.id, e.t FROM jsonb_to_recordset($2::jsonb) AS e(id text, t bigint)
           ON CONFLICT DO NOTHING`,
          [portalId, JSON.stringify(events.map((e) => ({ id: e.eventId, t: e.occurredAt })))],
        );
      }
      if (watermarks.size > 0) {
        await tx.query(
          `INSERT INTO webhook_watermarks (portal_id, object_key, occurred_at, deleted)
           SELECT $1, w.k, w.t, w.d FROM jsonb_to_recordset($2::jsonb) AS w(k text, t bigint, d boolean)
           ON CONFLICT (portal_id, object_key) DO UPDATE SET occurred_at = EXCLUDED.occurred_at, deleted = EXCLUDED.deleted
           WHERE EXCLUDED.occurred_at >= webhook_watermarks.occurred_at`,
          [portalId, JSON.stringify([...watermarks].map(([k, w]) => ({ k, t: w.occurredAt, d: w.deleted })))],
        );
      }
    });
  }

  async prune(before: number): Promise<number> {
    const res = await this.db.query('DELETE FROM webhook_events WHERE occurred_at < $1', [before]);
    return res.affectedRows ?? 0;
  }
}

/** The name from when PGlite was the only backend. */
export const PgliteWebhookLedger = SqlWebhookLedger;
export type PgliteWebhookLedger = SqlWebhookLedger;
