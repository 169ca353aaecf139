import { LitElement, html } from 'lit';
import type { PropertyValues, TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { guard } from 'lit/directives/guard.js';
import type { Model, Snapshot } from '../../src/types.js';
import { DEFAULT_FEATURES, NO_RECENT_ORDERS } from '../../src/types.js';
import { ApiClient } from '../shared/api.js';
import { DEFAULT_DB_NAME, loadModel, saveModel } from '../shared/cache.js';
import { fire } from '../shared/events.js';
import { featureUnit, formatFeature, formatNumber } from '../shared/format.js';
import { LocaleController } from '../shared/locale-controller.js';
import { displaySegmentId } from '../shared/segments.js';
import type { SegmentDisplay } from '../shared/segments.js';
import { loadSnapshotCacheFirst } from '../shared/snapshot-source.js';
import { focusRing, themeStyles, utilityStyles } from '../shared/theme.js';
import { downloadCsv, toCsv } from './csv.js';
import { ListModel } from './list-model.js';
import type { AssignmentMap, SortState } from './list-model.js';
import { listStyles } from './list.styles.js';

/** Fixed row height (px): virtual scrolling depends on it. */
export const ROW_HEIGHT = 44;
/**
 * Rows rendered beyond the visible window in the direction of scrolling (176 px): enough to cover a wheel
 * step while the next frame renders. Every rendered row is styled, laid out and painted again when a fast
 * scroll reaches new rows, so a larger margin costs every such frame (8 each way rendered 29 rows for 13
 * seen); behind the scroll, where rows only leave the view, `OVERSCAN_BEHIND` rows are kept.
 */
export const OVERSCAN = 4;
/** Rows kept beyond the visible window against the direction of scrolling (covers a small reversal). */
export const OVERSCAN_BEHIND = 1;
/**
 * After a scroll step longer than the viewport (a fling, a scrollbar drag, End), the next step lands past
 * any overscan too, so only the rows in view are rendered; this long after the last such step the overscan
 * is rendered again.
 */
export const OVERSCAN_SETTLE_MS = 120;
const DEFAULT_VIEWPORT = 560;

type LoadState = 'idle' | 'loading' | 'ready' | 'error';

interface Column {
  key: string;
  label: string;
  numeric: boolean;
}

/**
 * The marketer's contact list: every contact with its segment, filterable by segment, searchable by name,
 * email and city, sortable by any column, and exportable to CSV. Virtual scrolling renders only the visible
 * rows (fixed row height, one scroll container), so 100,000 contacts scroll smoothly.
 *
 * Data: set `snapshot` (and `model`, optionally `assignments`), or leave them unset and the list loads
 * `/api/snapshot` (cache-first, IndexedDB) and `/api/model` from `api-base`.
 *
 * @fires smart-segment-filter - The user changed the segment filter or the search. detail: { segment, query }
 * @fires smart-segment-export - The user exported the filtered rows as CSV. detail: { rows }
 * @csspart base - The wrapper.
 * @csspart toolbar - Search, segment chips and export.
 * @csspart table - The scrolling table.
 * @cssprop --smart-segment-list-height - Height of the scrolling table (default 560px).
 * @cssprop --smart-segment-accent - Accent colour (default #0091ae).
 * @attr segment - The segment id filtered on ('' = all).
 * @attr query - The search text.
 * @attr api-base - Base URL of the Smart Segments API (default: same origin).
 * @attr contact-href - Link template for contact names, `{id}` is replaced (e.g. `/?contact={id}`).
 * @attr cache-name - IndexedDB database name for the snapshot cache (default `smart-segments`).
 * @attr no-cache - Do not use the IndexedDB cache.
 */
@customElement('smart-segment-list')
export class SmartSegmentList extends LitElement {
  static override styles = [themeStyles, focusRing, utilityStyles, listStyles];

  /** Columnar contacts (property only). When unset, the list fetches it. */
  @property({ attribute: false }) snapshot: Snapshot | null | undefined = undefined;

  /** The published model (property only): segment labels, colours and the feature columns. */
  @property({ attribute: false }) model: Model | null | undefined = undefined;

  /** Contact id -> segment id, overriding `snapshot.segments` (e.g. fresh assignments before write-back). */
  @property({ attribute: false }) assignments: AssignmentMap | null | undefined = undefined;

  /** Feature columns shown (default: the model's features, else the paper's four). */
  @property({ attribute: false }) features: string[] | undefined = undefined;

  @property({ reflect: true }) segment = '';
  @property() query = '';
  @property({ attribute: 'api-base' }) apiBase = '';
  @property({ attribute: 'contact-href' }) contactHref = '';
  /** IndexedDB database used as the snapshot cache. */
  @property({ attribute: 'cache-name' }) cacheName = DEFAULT_DB_NAME;
  /** Never read or write the IndexedDB cache. */
  @property({ type: Boolean, attribute: 'no-cache' }) noCache = false;

  @state() private _sort: SortState | null = null;
  @state() private _scrollTop = 0;
  /** The last scroll went up: the overscan goes above the visible rows (else below). */
  private _scrollingUp = false;
  /** The last scroll step was longer than the viewport: no overscan until it settles. */
  private _leaping = false;
  private _settle: ReturnType<typeof setTimeout> | undefined;
  @state() private _viewport = DEFAULT_VIEWPORT;
  @state() private _load: LoadState = 'idle';
  @state() private _error = '';
  @state() private _fetchedSnapshot: Snapshot | null = null;
  @state() private _fetchedModel: Model | null = null;

  @query('.scroller') private _scroller!: HTMLElement | null;

  private readonly _i18n = new LocaleController(this);
  private _data: ListModel | null = null;
  private _rows: Int32Array = new Int32Array(0);
  private _counts = new Map<string, number>();
  private _labels = new Map<string, SegmentDisplay>();
  /** The locale `_labels` were made in (a `lang` change re-makes them). */
  private _labelsLocale = '';
  private _resize: ResizeObserver | null = null;
  private _abort: AbortController | null = null;

  /** Row indices (into the snapshot) currently shown, in display order. */
  get visibleRowIndices(): Int32Array {
    return this._rows;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.snapshot === undefined && this._load === 'idle') void this._fetch();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._resize?.disconnect();
    this._resize = null;
    this._abort?.abort();
    clearTimeout(this._settle);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const snapshot = this._snapshot();
    const model = this._model();
    const dataChanged =
      changed.has('snapshot') ||
      changed.has('assignments') ||
      changed.has('_fetchedSnapshot' as keyof SmartSegmentList) ||
      (snapshot && !this._data);
    if (dataChanged) {
      this._data = snapshot ? new ListModel(snapshot, this.assignments) : null;
      this._counts = this._data ? this._data.counts() : new Map();
    }
    if (dataChanged || changed.has('model') || changed.has('_fetchedModel' as keyof SmartSegmentList) || this._labelsLocale !== this._i18n.locale) {
      this._labelsLocale = this._i18n.locale;
      this._labels = new Map();
      for (const id of this._segmentIds(model)) this._labels.set(id, displaySegmentId(id, model, this._i18n.locale));
    }
    if (dataChanged || changed.has('segment') || changed.has('query') || changed.has('_sort' as keyof SmartSegmentList) || changed.has('model')) {
      if (this._data) {
        const rows = this._data.filter(this.segment, this.query);
        this._rows = this._data.sort(rows, this._sort, (id) => this._label(id).label);
      } else {
        this._rows = new Int32Array(0);
      }
    }
    if (changed.has('segment') || changed.has('query')) {
      this._scrollTop = 0;
      this._scrollingUp = false;
      this._leaping = false;
      if (this._scroller) this._scroller.scrollTop = 0;
    }
  }

  protected override updated(): void {
    const scroller = this._scroller;
    if (scroller && !this._resize) {
      this._resize = new ResizeObserver(() => {
        const height = scroller.clientHeight;
        if (height > 0 && height !== this._viewport) this._viewport = height;
      });
      this._resize.observe(scroller);
    } else if (!scroller && this._resize) {
      this._resize.disconnect();
      this._resize = null;
    }
  }

  /** The filtered rows as RFC 4180 CSV (in display order). */
  toCsv(): string {
    const data = this._data;
    if (!data) return toCsv([], []);
    const snapshot = data.snapshot;
    const features = this._featureColumns();
    const header = ['id', 'firstname', 'lastname', 'email', 'city', 'country', 'segment', 'segment_label', ...features];
    const rows = Array.from(this._rows, (row) => {
      const segment = data.segments[row] ?? '';
      return [
        snapshot.ids[row],
        snapshot.firstnames[row],
        snapshot.lastnames[row],
        snapshot.emails[row],
        snapshot.cities[row],
        snapshot.countries[row],
        segment,
        segment ? this._label(segment).label : '',
        ...features.map((feature) => data.value(row, feature)),
      ];
    });
    return toCsv(header, rows);
  }

  // ---- data ----

  private _snapshot(): Snapshot | null {
    return this.snapshot ?? this._fetchedSnapshot;
  }

  private _model(): Model | null {
    return this.model ?? this._fetchedModel;
  }

  private async _fetch(): Promise<void> {
    this._abort?.abort();
    const abort = new AbortController();
    this._abort = abort;
    this._load = 'loading';
    this._error = '';
    const api = new ApiClient(this.apiBase);
    try {
      const modelPromise =
        this.model !== undefined
          ? Promise.resolve(this.model)
          : api.model(abort.signal).then(
              (model) => {
                if (!this.noCache) void saveModel(model, this.cacheName);
                return model;
              },
              async (error: unknown) => (this.noCache ? null : await loadModel(this.cacheName)) ?? Promise.reject(error),
            );
      await loadSnapshotCacheFirst({
        api,
        signal: abort.signal,
        dbName: this.cacheName,
        noCache: this.noCache,
        onSnapshot: (snapshot) => {
          if (abort.signal.aborted) return;
          this._fetchedSnapshot = snapshot;
          this._load = 'ready';
        },
      });
      const model = await modelPromise;
      if (abort.signal.aborted) return;
      this._fetchedModel = model;
      this._load = 'ready';
    } catch (error) {
      if (abort.signal.aborted) return;
      if (this._fetchedSnapshot) {
        this._load = 'ready';
        return;
      }
      this._load = 'error';
      this._error = error instanceof Error ? error.message : String(error);
    }
  }

  private _featureColumns(): string[] {
    const available = this._data?.snapshot.features ?? [];
    const wanted = this.features ?? this._model()?.features ?? [...DEFAULT_FEATURES];
    return wanted.filter((feature) => available.includes(feature));
  }

  /** Segment ids in display order: the model's, then no recent orders, then any others seen, then unassigned. */
  private _segmentIds(model: Model | null): string[] {
    const ids: string[] = model ? model.segments.map((s) => s.id) : [];
    const seen = [...this._counts.keys()];
    if (seen.includes(NO_RECENT_ORDERS) && !ids.includes(NO_RECENT_ORDERS)) ids.push(NO_RECENT_ORDERS);
    for (const id of seen.sort()) if (id && !ids.includes(id)) ids.push(id);
    if (seen.includes('')) ids.push('');
    return ids;
  }

  private _label(id: string): SegmentDisplay {
    return this._labels.get(id) ?? displaySegmentId(id, this._model(), this._i18n.locale);
  }

  // ---- rendering ----

  protected override render(): TemplateResult {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    if (!this._data) {
      if (this._load === 'error') {
        return html`<div part="base" class="base">
          <div class="state" role="alert">
            <p class="error">${tr('state.error', { message: this._error })}</p>
            <button class="button" type="button" @click=${this._fetch}>${tr('state.retry')}</button>
          </div>
        </div>`;
      }
      if (this.snapshot === null || this._load === 'ready') {
        return html`<div part="base" class="base"><div class="state" role="status">${tr('list.empty')}</div></div>`;
      }
      return html`<div part="base" class="base">
        <div class="state" role="status"><span class="spinner" aria-hidden="true"></span> ${tr('state.loading')}</div>
      </div>`;
    }
    if (this._data.size === 0) {
      return html`<div part="base" class="base"><div class="state" role="status">${tr('list.empty')}</div></div>`;
    }
    return html`<div part="base" class="base">
      ${guard([this._data, this._rows, this._counts, this._labels, this.segment, this.query, this._i18n.locale], () => this._renderToolbar())}
      ${this._renderTable()}
    </div>`;
  }

  private _renderToolbar(): TemplateResult {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    const total = this._data?.size ?? 0;
    const ids = this._segmentIds(this._model());
    return html`<div class="toolbar" part="toolbar">
        <div class="search">
          <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
            <circle cx="7" cy="7" r="5" fill="none" stroke="#516f90" stroke-width="2"></circle>
            <line x1="11" y1="11" x2="15" y2="15" stroke="#516f90" stroke-width="2"></line>
          </svg>
          <label class="visually-hidden" for="search">${tr('list.search')}</label>
          <input
            id="search"
            type="search"
            placeholder=${tr('list.searchPlaceholder')}
            .value=${this.query}
            @input=${this._onSearch}
            autocomplete="off"
          />
        </div>
        <span class="spacer"></span>
        <span class="summary" role="status" aria-live="polite"
          >${tr('list.showing', { shown: this._rows.length, total })}</span
        >
        <button
          class="button"
          type="button"
          @click=${this._onExport}
          ?disabled=${this._rows.length === 0}
          title=${tr('list.exportHelp', { count: this._rows.length })}
        >
          ${tr('list.export')}
        </button>
      </div>
      <div class="chips" role="group" aria-label=${tr('list.filter')}>
        <button class="chip" type="button" aria-pressed=${this.segment === '' ? 'true' : 'false'} @click=${() => this._setSegment('')}>
          ${tr('list.allSegments')} <span class="count">${formatNumber(total, this._i18n.locale)}</span>
        </button>
        ${ids.map((id) => {
          const display = this._label(id);
          return html`<button
            class="chip"
            type="button"
            aria-pressed=${this.segment === id ? 'true' : 'false'}
            @click=${() => this._setSegment(id)}
          >
            <span class="dot" style="background:${display.color}" aria-hidden="true"></span>${display.label}
            <span class="count">${formatNumber(this._counts.get(id) ?? 0, this._i18n.locale)}</span>
          </button>`;
        })}
      </div>`;
  }

  private _columns(): Column[] {
    const tr = (key: string) => this._i18n.t(key);
    const locale = this._i18n.locale;
    return [
      { key: 'name', label: tr('list.name'), numeric: false },
      { key: 'email', label: tr('list.email'), numeric: false },
      { key: 'city', label: tr('list.city'), numeric: false },
      { key: 'segment', label: tr('list.segment'), numeric: false },
      ...this._featureColumns().map((feature) => {
        const unit = featureUnit(feature, locale);
        const label = tr(`feature.${feature}`);
        return { key: feature, label: unit && unit !== '$' && !unit.startsWith('/') ? `${label} (${unit})` : label, numeric: true };
      }),
    ];
  }

  private _renderTable(): TemplateResult {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    const columns = this._columns();
    const template = `minmax(140px, 1.3fr) minmax(170px, 1.5fr) minmax(96px, 0.9fr) minmax(120px, 1fr) repeat(${columns.length - 4}, minmax(104px, 1fr))`;
    const count = this._rows.length;
    if (count === 0) {
      return html`<div class="state" role="status">
        <p>${tr('list.noMatches')}</p>
        <button class="button" type="button" @click=${this._onClearFilters}>${tr('list.clearFilters')}</button>
      </div>`;
    }
    // The sticky header row covers one row height at the top of the viewport, so the body rows in view
    // span [scrollTop, scrollTop + viewport - header) in the body's coordinates.
    const first = Math.floor(this._scrollTop / ROW_HEIGHT);
    const last = Math.ceil((this._scrollTop + this._viewport - ROW_HEIGHT) / ROW_HEIGHT);
    const ahead = this._leaping ? 0 : OVERSCAN;
    const behind = this._leaping ? 0 : OVERSCAN_BEHIND;
    const up = this._scrollingUp;
    const start = Math.max(0, first - (up ? ahead : behind));
    const end = Math.min(count, last + (up ? behind : ahead));
    const rows: TemplateResult[] = [];
    for (let position = start; position < end; position += 1) rows.push(this._renderRow(position, columns));
    return html`<div
      class="scroller"
      part="table"
      tabindex="0"
      role="region"
      aria-label=${tr('list.rowsLabel')}
      @scroll=${this._onScroll}
    >
      <div
        class="table"
        role="table"
        aria-label=${tr('list.label')}
        aria-rowcount=${count + 1}
        style="--_columns:${template};--_row-height:${ROW_HEIGHT}px"
      >
        <div class="head" role="rowgroup">
          <div class="row" role="row" aria-rowindex="1">
            ${guard([columns.map((column) => `${column.key}\u0000${column.label}`).join('\n'), this._sort], () => columns.map((column) => this._renderHeader(column)))}
          </div>
        </div>
        <div class="body" role="rowgroup" style="height:${count * ROW_HEIGHT}px">
          <div class="window" style="transform:translateY(${start * ROW_HEIGHT}px)">${rows}</div>
        </div>
      </div>
    </div>`;
  }

  private _renderHeader(column: Column): TemplateResult {
    const sorted = this._sort?.key === column.key ? this._sort.direction : null;
    const icon = sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : '↕';
    return html`<div class="cell ${column.numeric ? 'num' : ''}" role="columnheader" aria-sort=${sorted ?? 'none'}>
      <button class="sort" type="button" title=${column.label} @click=${() => this._onSort(column.key)}>
        <span class="sort-label">${column.label}</span><span class="sort-icon" aria-hidden="true">${icon}</span>
      </button>
    </div>`;
  }

  private _renderRow(position: number, columns: Column[]): TemplateResult {
    const data = this._data as ListModel;
    const row = this._rows[position] as number;
    const snapshot = data.snapshot;
    const id = snapshot.ids[row] as string;
    const locale = this._i18n.locale;
    const segment = data.segments[row] ?? '';
    const display = this._label(segment);
    const name = data.name(row) || snapshot.emails[row] || id;
    const href = this.contactHref ? this.contactHref.replace('{id}', encodeURIComponent(id)) : '';
    return html`<div class="row" role="row" aria-rowindex=${position + 2}>
      <div class="cell" role="cell">${href ? html`<a class="name" href=${href}>${name}</a>` : name}</div>
      <div class="cell" role="cell">${snapshot.emails[row]}</div>
      <div class="cell" role="cell">${snapshot.cities[row]}</div>
      <div class="cell" role="cell">
        <span class="seg" title=${display.label}
          ><span class="dot" style="background:${display.color}" aria-hidden="true"></span
          ><span class="seg-label">${display.label}</span></span
        >
      </div>
      ${columns
        .slice(4)
        .map((column) => html`<div class="cell num" role="cell">${formatFeature(column.key, data.value(row, column.key), locale)}</div>`)}
    </div>`;
  }

  // ---- handlers ----

  private _setSegment(segment: string): void {
    if (segment === this.segment) return;
    this.segment = segment;
    fire(this, 'smart-segment-filter', { segment, query: this.query });
  }

  private _onSearch(event: Event): void {
    this.query = (event.target as HTMLInputElement).value;
    fire(this, 'smart-segment-filter', { segment: this.segment, query: this.query });
  }

  private _onClearFilters(): void {
    this.segment = '';
    this.query = '';
    fire(this, 'smart-segment-filter', { segment: '', query: '' });
  }

  private _onSort(key: string): void {
    const current = this._sort;
    this._sort = { key, direction: current?.key === key && current.direction === 'ascending' ? 'descending' : 'ascending' };
  }

  private _onScroll(event: Event): void {
    const scrollTop = (event.target as HTMLElement).scrollTop;
    const step = scrollTop - this._scrollTop;
    if (step !== 0) this._scrollingUp = step < 0;
    this._leaping = Math.abs(step) > this._viewport;
    clearTimeout(this._settle);
    if (this._leaping) {
      this._settle = setTimeout(() => {
        this._leaping = false;
        this.requestUpdate();
      }, OVERSCAN_SETTLE_MS);
    }
    this._scrollTop = scrollTop;
  }

  private _onExport(): void {
    const csv = this.toCsv();
    downloadCsv(csv, `smart-segments-${this.segment || 'all'}.csv`);
    fire(this, 'smart-segment-export', { rows: this._rows.length });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'smart-segment-list': SmartSegmentList;
  }
}
