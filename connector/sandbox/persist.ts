/**
 * Persists SandboxData to a directory: one NDJSON file per object type (one record a line, so a million
 * deals stream in and out without one giant string), `properties.json` and `meta.json`. Each file is
 * written to `<name>.tmp` and renamed over the old one, so a crash leaves either the old or the new file,
 * never half of one. Writes are debounced and only rewrite the kinds that changed.
 *
 * Line formats (short keys: the deals file is ~150 MB at a million deals):
 *   contacts.ndjson  {"id":1001,"c":<createdAt ms>,"u":<updatedAt ms>,"a":<archivedAt ms|null>,"p":{...},"t":"loyal"}
 *   deals.ndjson     {"id":20000001,"c":..,"u":..,"a":..,"p":{...},"to":[<contact ids>]}
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Archetype } from '../../src/types.js';
import type { DataChange, ObjectType, PropertyDefinition, PropertyGroup, SandboxData, StoredObject } from './store.js';

const FORMAT = 1;

interface Meta {
  format: number;
  nextIds: Record<ObjectType, number>;
  savedAt: string;
  [key: string]: unknown;
}

interface Line {
  id: number;
  c: number;
  u: number;
  a: number | null;
  p: Record<string, string | null>;
  t?: Archetype;
  to?: number[];
}

type Kind = DataChange['kind'];

export class Persistence {
  private dirty = new Set<Kind>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  /** Extra fields saved in meta.json (seed, asOf, ...). */
  meta: Record<string, unknown> = {};

  constructor(
    readonly dir: string,
    private readonly data: SandboxData,
    private readonly debounceMs = 250,
    private readonly log: (line: string) => void = () => {},
  ) {
    data.onChange((c) => this.markDirty(c.kind));
  }

  /** True when the directory holds a saved portal. */
  async exists(): Promise<boolean> {
    try {
      await stat(join(this.dir, 'meta.json'));
      return true;
    } catch {
      return false;
    }
  }

  /** Removes the saved portal (for --reset). */
  async wipe(): Promise<void> {
    for (const f of ['meta.json', 'contacts.ndjson', 'deals.ndjson', 'properties.json']) {
      await rm(join(this.dir, f), { force: true });
    }
  }

  /** Loads the saved portal into `data` (replacing its contents). Returns the extra meta fields. */
  async load(): Promise<Record<string, unknown>> {
    const meta = JSON.parse(await readFile(join(this.dir, 'meta.json'), 'utf8')) as Meta;
    if (meta.format !== FORMAT) throw new Error(`sandbox: ${this.dir} holds data format ${meta.format}, expected ${FORMAT}`);
    const d = this.data;
    d.contacts.clear();
    d.deals.clear();
    d.contactDeals.clear();
    d.dealContacts.clear();
    d.truth.clear();
    const props = JSON.parse(await readFile(join(this.dir, 'properties.json'), 'utf8')) as {
      defs: Record<ObjectType, PropertyDefinition[]>; groups: Record<ObjectType, PropertyGroup[]>;
    };
    for (const t of ['contacts', 'deals'] as const) {
      d.propertyDefs[t].clear();
      d.propertyGroups[t].clear();
      for (const p of props.defs[t]) d.propertyDefs[t].set(p.name, p);
      for (const g of props.groups[t]) d.propertyGroups[t].set(g.name, g);
    }
    await readLines(join(this.dir, 'contacts.ndjson'), (l) => {
      d.contacts.put(toRecord(l));
      if (l.t) d.truth.set(l.id, l.t);
    });
    await readLines(join(this.dir, 'deals.ndjson'), (l) => {
      d.deals.put(toRecord(l));
      for (const c of l.to ?? []) d.link(c, l.id);
    });
    d.contacts.nextId = Math.max(d.contacts.nextId, meta.nextIds.contacts);
    d.deals.nextId = Math.max(d.deals.nextId, meta.nextIds.deals);
    d.version++;
    this.dirty.clear();
    const { format: _f, nextIds: _n, savedAt: _s, ...extra } = meta;
    this.meta = extra;
    return extra;
  }

  markDirty(kind: Kind): void {
    if (this.closed) return;
    this.dirty.add(kind);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush().catch((e: unknown) => this.log(`sandbox: saving failed: ${String(e)}`));
      }, this.debounceMs);
    }
  }

  markAllDirty(): void {
    for (const k of ['contacts', 'deals', 'associations', 'properties'] as const) this.markDirty(k);
  }

  /** Writes every pending change now; resolves when the files are renamed into place. */
  flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(() => this.writeDirty());
    return this.writing;
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private async writeDirty(): Promise<void> {
    if (this.dirty.size === 0) return;
    const kinds = new Set(this.dirty);
    this.dirty.clear();
    await mkdir(this.dir, { recursive: true });
    const d = this.data;
    if (kinds.has('contacts')) {
      await writeLines(join(this.dir, 'contacts.ndjson'), d.contacts.byId.values(), (r) =>
        JSON.stringify(toLine(r, d.truth.get(r.id))));
    }
    if (kinds.has('deals') || kinds.has('associations')) {
      await writeLines(join(this.dir, 'deals.ndjson'), d.deals.byId.values(), (r) =>
        JSON.stringify({ ...toLine(r, undefined), to: d.dealContacts.get(r.id) ?? [] }));
    }
    if (kinds.has('properties')) {
      const out = { defs: { contacts: [...d.propertyDefs.contacts.values()], deals: [...d.propertyDefs.deals.values()] },
        groups: { contacts: [...d.propertyGroups.contacts.values()], deals: [...d.propertyGroups.deals.values()] } };
      await atomicWrite(join(this.dir, 'properties.json'), JSON.stringify(out));
    }
    // meta.json last: its presence means the other files are complete.
    const meta: Meta = { ...this.meta, format: FORMAT,
      nextIds: { contacts: d.contacts.nextId, deals: d.deals.nextId }, savedAt: new Date().toISOString() };
    await atomicWrite(join(this.dir, 'meta.json'), JSON.stringify(meta, null, 2));
    this.log(`sandbox: saved ${[...kinds].join(', ')} to ${this.dir}`);
  }
}

function toLine(r: StoredObject, t: Archetype | undefined): Line {
  const l: Line = { id: r.id, c: r.createdAt, u: r.updatedAt, a: r.archivedAt, p: r.properties };
  if (t) l.t = t;
  return l;
}

function toRecord(l: Line): StoredObject {
  return { id: l.id, createdAt: l.c, updatedAt: l.u, archivedAt: l.a, properties: l.p };
}

async function atomicWrite(file: string, text: string): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function writeLines<T>(file: string, items: Iterable<T>, line: (item: T) => string): Promise<void> {
  const tmp = `${file}.tmp`;
  const out = createWriteStream(tmp);
  const done = new Promise<void>((resolve, reject) => {
    out.on('finish', resolve);
    out.on('error', reject);
  });
  let chunk: string[] = [];
  for (const item of items) {
    chunk.push(line(item));
    if (chunk.length >= 5000) {
      if (!out.write(chunk.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = [];
    }
  }
  if (chunk.length > 0) out.write(chunk.join('\n') + '\n');
  out.end();
  await done;
  await rename(tmp, file);
}

async function readLines(file: string, onLine: (line: Line) => void): Promise<void> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    if (text.length === 0) continue;
    try {
      onLine(JSON.parse(text) as Line);
    } catch (e) {
      throw new Error(`sandbox: ${file} line ${n}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
