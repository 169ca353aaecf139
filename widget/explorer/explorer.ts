import { LitElement, html, nothing } from 'lit';
import type { PropertyValues, TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { assign } from '../../src/assign.js';
import { TECHNOLOGIES } from '../../src/strategy.js';
import { ALL_FEATURES, DEFAULT_FEATURES, NO_RECENT_ORDERS } from '../../src/types.js';
import type {
  FeatureTable,
  FitResult,
  Method,
  Model,
  ProgressEvent,
  ScalerKind,
  Segment,
  Snapshot,
} from '../../src/types.js';
import { ApiClient } from '../shared/api.js';
import type { Job } from '../shared/api.js';
import { EVENTS, fire } from '../shared/events.js';
import { formatCurrency, formatDate, formatFeature, formatNumber, formatPercent } from '../shared/format.js';
import { localeFor, normalizeLocale, t } from '../shared/i18n.js';
import { loadSnapshotCacheFirst } from '../shared/snapshot-source.js';
import { snapshotToTable } from '../shared/table.js';
import { NEUTRAL_COLOR } from '../shared/theme.js';
import { movementMatrix, subsample } from './analysis.js';
import type { Movement } from './analysis.js';
import { dendrogramChart, kSearchChart, scatterChart, stabilityChart } from './charts.js';
import type { ScatterSeries } from './charts.js';
import { FitController } from './fit-controller.js';
import type { WorkerFactory } from './fit-controller.js';
import { featureLabel, msg } from './strings.js';
import type { Locale } from './strings.js';
import { explorerStyles } from './styles.js';

/** Most points the scatter plot draws; larger snapshots are subsampled (seeded). */
export const SCATTER_MAX_POINTS = 5000;

type Phase = 'loading' | 'empty' | 'error' | 'ready' | 'fitting' | 'fitted';
type PublishPhase = 'idle' | 'publishing' | 'published' | 'failed';

/**
 * The admin's workspace: pick features, method, k, seed and scaling, fit segments in a Web Worker, read the
 * segments (cards, centres, scatter, k choice, dendrogram, stability, KPIs, strategy, rules), see how many
 * contacts would move, and publish the model to HubSpot with write-back progress.
 *
 * @fires smart-segment-fit-start - The user started a fit ({ features, method, k }).
 * @fires smart-segment-fit-complete - A fit finished ({ model }).
 * @fires smart-segment-fit-cancel - The user cancelled a running fit ({}).
 * @fires smart-segment-publish - The user published the fitted model ({ model }).
 * @fires smart-segment-published - The server finished writing segments back ({ jobId }).
 * @csspart base - The outer wrapper.
 * @csspart header - The title bar (hide it with `::part(header) { display: none }` when the host page has its own).
 * @csspart controls - The fit settings card.
 * @csspart results - The results column.
 * @cssprop --smart-segment-font - Font stack.
 * @cssprop --smart-segment-text - Text colour.
 * @cssprop --smart-segment-muted - Secondary text colour.
 * @cssprop --smart-segment-border - Card and table borders.
 * @cssprop --smart-segment-surface - Card background.
 * @cssprop --smart-segment-surface-alt - Page background.
 * @cssprop --smart-segment-accent - Accent (charts, progress).
 * @cssprop --smart-segment-danger - Error text.
 * @attr api-base - Base URL of the Smart Segments server (default: same origin).
 * @attr lang - Language: `en` or `uk` (default: nearest `lang` attribute, then the browser's).
 * @attr no-cache - Do not cache the snapshot in IndexedDB.
 */
@customElement('smart-segment-explorer')
export class SmartSegmentExplorer extends LitElement {
  static override styles = explorerStyles;

  /** Base URL of the server API ('' = same origin). */
  @property({ attribute: 'api-base' }) apiBase = '';

  /** Contacts to segment. When unset, the element fetches `/api/snapshot` (cache-first). */
  @property({ attribute: false }) snapshot: Snapshot | null = null;

  /** The currently published model, for the movement matrix. When unset, fetched from `/api/model`. */
  @property({ attribute: false }) model: Model | null = null;

  /** Language override (`en` | `uk`). */
  @property() override lang!: string;

  /** Skip the IndexedDB snapshot cache. */
  @property({ type: Boolean, attribute: 'no-cache' }) noCache = false;

  /** Milliseconds between write-back job polls. */
  @property({ attribute: false }) pollInterval = 500;

  /** Creates the clustering worker (tests and CSP-restricted hosts may inject their own). */
  @property({ attribute: false }) workerFactory: WorkerFactory | undefined;

  @state() private _phase: Phase = 'loading';
  @state() private _loadError = '';
  @state() private _loadedSnapshot: Snapshot | null = null;
  @state() private _fetchedModel: Model | null = null;
  @state() private _features: string[] = [...DEFAULT_FEATURES];
  @state() private _method: Method = 'kmeans';
  @state() private _k: number | 'auto' = 3;
  @state() private _seed = 42;
  @state() private _scaler: ScalerKind = 'zscore';
  @state() private _progress: ProgressEvent | null = null;
  @state() private _result: FitResult | null = null;
  @state() private _fitError = '';
  @state() private _notice = '';
  @state() private _movement: Movement | null = null;
  @state() private _x = 'avg_order_amount';
  @state() private _y = 'purchase_frequency';
  @state() private _publishPhase: PublishPhase = 'idle';
  @state() private _job: Job | null = null;
  @state() private _publishError = '';
  /** True while the results shown are the published model's (on load), not a new fit. */
  @state() private _showingPublished = false;

  private _controller: FitController | null = null;
  private _table: FeatureTable | null = null;
  private _tableSource: Snapshot | null = null;
  private _phaseBeforeFit: Phase = 'ready';
  private _loadAbort: AbortController | null = null;
  private _publishAbort: AbortController | null = null;
  private _requested = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this._controller = new FitController(
      { onProgress: (event) => (this._progress = event) },
      this.workerFactory,
    );
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._controller?.dispose();
    this._controller = null;
    this._loadAbort?.abort();
    this._publishAbort?.abort();
  }

  /** The snapshot in use: the property, else the fetched one. */
  private get _snapshot(): Snapshot | null {
    return this.snapshot ?? this._loadedSnapshot;
  }

  /** The published model: the property, else the fetched one. */
  private get _published(): Model | null {
    return this.model ?? this._fetchedModel;
  }

  private get _locale(): Locale {
    return this.lang ? normalizeLocale(this.lang) : localeFor(this);
  }

  private get _api(): ApiClient {
    return new ApiClient(this.apiBase);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('workerFactory') && this._controller && !this._controller.running) {
      this._controller.dispose();
      this._controller = new FitController({ onProgress: (event) => (this._progress = event) }, this.workerFactory);
    }
    const snapshot = this._snapshot;
    if (snapshot !== this._tableSource) {
      this._tableSource = snapshot;
      this._table = snapshot ? snapshotToTable(snapshot) : null;
      if (snapshot) {
        const available = new Set(snapshot.features);
        const kept = this._features.filter((f) => available.has(f));
        this._features = kept.length ? kept : DEFAULT_FEATURES.filter((f) => available.has(f));
        if (!available.has(this._x)) this._x = snapshot.features[0] ?? '';
        if (!available.has(this._y)) this._y = snapshot.features[1] ?? snapshot.features[0] ?? '';
      }
      if (this._phase !== 'fitting') {
        if (snapshot) {
          this._phase = snapshot.ids.length === 0 ? 'empty' : this._result ? 'fitted' : 'ready';
        } else if (this.snapshot === null && this._phase !== 'error' && !this._requested) {
          this._phase = 'loading';
        }
      }
    }
    this._showPublishedOnLoad();
    const changedKeys = changed as Map<PropertyKey, unknown>;
    if ((changedKeys.has('model') || changedKeys.has('_fetchedModel')) && this._result && !this._showingPublished) {
      this._movement = this._computeMovement(this._result);
    }
  }

  /**
   * An admin who opens the explorer sees the segments that are live (the published model applied to the
   * current contacts) with its settings preselected, rather than an empty page; fitting replaces them.
   */
  private _showPublishedOnLoad(): void {
    const published = this._published;
    const table = this._table;
    if (this._result || !published || !table || this._phase !== 'ready') return;
    if (!published.features.every((f) => table.columns.includes(f))) return;
    try {
      this._result = { model: published, assignments: assign(published, table) };
    } catch {
      return; // a model the data cannot take: start from an empty page
    }
    this._showingPublished = true;
    this._features = [...published.features];
    this._method = published.method;
    this._k = published.k;
    this._seed = published.seed;
    this._scaler = published.scaler.kind;
    this._phase = 'fitted';
    this._publishPhase = 'published';
    this._movement = null;
  }

  protected override firstUpdated(): void {
    if (!this.snapshot) void this._load();
    else if (this.hasAttribute('api-base') && !this.model) void this._loadModel();
  }

  /** Fetches the snapshot (cache-first) and the published model. */
  private async _load(): Promise<void> {
    this._requested = true;
    this._loadAbort?.abort();
    const abort = (this._loadAbort = new AbortController());
    this._phase = 'loading';
    this._loadError = '';
    const modelPromise = this.model ? Promise.resolve() : this._loadModel();
    try {
      const snapshot = await loadSnapshotCacheFirst({
        api: this._api,
        noCache: this.noCache,
        signal: abort.signal,
        onSnapshot: (s) => {
          if (!abort.signal.aborted) this._loadedSnapshot = s;
        },
      });
      if (abort.signal.aborted) return;
      this._loadedSnapshot = snapshot;
      if (snapshot.ids.length === 0) this._phase = 'empty';
      else if (this._phase === 'loading') this._phase = 'ready';
    } catch (error) {
      if (abort.signal.aborted) return;
      this._loadError = error instanceof Error ? error.message : String(error);
      this._phase = 'error';
    }
    await modelPromise;
  }

  private async _loadModel(): Promise<void> {
    try {
      this._fetchedModel = await this._api.model();
    } catch {
      // No published model to compare with is not an error for the explorer.
      this._fetchedModel = null;
    }
  }

  private _computeMovement(result: FitResult): Movement | null {
    const published = this._published;
    if (!published || !this._table) return null;
    try {
      const before = assign(published, this._table);
      const fromOrder = [...published.segments.map((s) => s.id), NO_RECENT_ORDERS];
      const toOrder = [...result.model.segments.map((s) => s.id), NO_RECENT_ORDERS];
      return movementMatrix(before, result.assignments, fromOrder, toOrder);
    } catch {
      // The published model may use features this snapshot lacks: then nothing is comparable.
      return null;
    }
  }

  // ---------------------------------------------------------------- rendering

  protected override render(): TemplateResult {
    const locale = this._locale;
    const snapshot = this._snapshot;
    return html`<div part="base" lang=${locale}>
      <header part="header">
        <h2>${msg(locale, 'title')}</h2>
        ${snapshot && snapshot.ids.length
          ? html`<p class="muted">
              ${msg(locale, 'subtitle', {
                n: snapshot.ids.length,
                date: formatDate(snapshot.generatedAt, locale),
              })}
            </p>`
          : nothing}
      </header>
      ${this._renderBody(locale)}
    </div>`;
  }

  private _renderBody(locale: Locale): TemplateResult {
    switch (this._phase) {
      case 'loading':
        return html`<div class="card loading" role="status">
          <p><span class="spinner" aria-hidden="true"></span> ${msg(locale, 'loading')}</p>
        </div>`;
      case 'empty':
        return html`<div class="card empty" role="status"><p>${msg(locale, 'empty')}</p></div>`;
      case 'error':
        return html`<div class="card load-error">
          <p role="alert">${msg(locale, 'loadError', { message: this._loadError })}</p>
          <p><button class="button" type="button" @click=${this._onRetry}>${msg(locale, 'retry')}</button></p>
        </div>`;
      default:
        return html`<div class="layout">
          ${this._renderControls(locale)}
          <div class="results" part="results">${this._renderResults(locale)}</div>
        </div>`;
    }
  }

  private _renderControls(locale: Locale): TemplateResult {
    const fitting = this._phase === 'fitting';
    const features = this._snapshot?.features ?? [...ALL_FEATURES];
    const noFeatures = this._features.length === 0;
    return html`<section class="card controls" part="controls" aria-labelledby="controls-heading">
      <h3 id="controls-heading">${msg(locale, 'controls')}</h3>
      <form @submit=${this._onSubmit} aria-busy=${fitting ? 'true' : 'false'}>
        <fieldset ?disabled=${fitting}>
          <legend>${msg(locale, 'features')}</legend>
          ${features.map(
            (f) => html`<label class="option">
              <input
                type="checkbox"
                name="feature"
                .value=${f}
                .checked=${this._features.includes(f)}
                @change=${this._onFeature}
              />
              ${featureLabel(locale, f)}
            </label>`,
          )}
        </fieldset>
        <fieldset ?disabled=${fitting}>
          <legend>${msg(locale, 'method')}</legend>
          ${(['kmeans', 'ward'] as const).map(
            (m) => html`<label class="option">
              <input type="radio" name="method" .value=${m} .checked=${this._method === m} @change=${this._onMethod} />
              ${msg(locale, m)}
            </label>`,
          )}
          <div class="field" style="margin-top:10px">
            <label class="label" for="k">${msg(locale, 'k')}</label>
            <select id="k" .value=${String(this._k)} @change=${this._onK} ?disabled=${fitting}>
              <option value="auto" ?selected=${this._k === 'auto'}>${msg(locale, 'kAuto')}</option>
              ${[2, 3, 4, 5, 6, 7, 8].map((k) => html`<option value=${k} ?selected=${this._k === k}>${k}</option>`)}
            </select>
          </div>
        </fieldset>
        <fieldset ?disabled=${fitting}>
          <legend>${msg(locale, 'scaler')}</legend>
          ${(['zscore', 'minmax'] as const).map(
            (s) => html`<label class="option">
              <input type="radio" name="scaler" .value=${s} .checked=${this._scaler === s} @change=${this._onScaler} />
              ${msg(locale, s)}
            </label>`,
          )}
          <div class="field" style="margin-top:10px">
            <label class="label" for="seed">${msg(locale, 'seed')}</label>
            <input id="seed" type="number" min="0" step="1" .value=${String(this._seed)} @change=${this._onSeed} />
          </div>
        </fieldset>
        <div class="actions">
          ${fitting
            ? html`<button class="button" type="button" @click=${this._onCancel}>${msg(locale, 'cancel')}</button>`
            : html`<button class="button primary" type="submit" ?disabled=${noFeatures}>
                ${msg(locale, this._result ? 'refit' : 'fit')}
              </button>`}
        </div>
        ${fitting ? this._renderProgress(locale) : nothing}
      </form>
      ${noFeatures ? html`<p class="note">${msg(locale, 'needFeatures')}</p>` : nothing}
      ${this._fitError ? html`<p role="alert">${msg(locale, 'fitError', { message: this._fitError })}</p>` : nothing}
      ${this._notice ? html`<p class="status" role="status">${this._notice}</p>` : nothing}
    </section>`;
  }

  private _renderProgress(locale: Locale): TemplateResult {
    const fraction = Math.max(0, Math.min(1, this._progress?.fraction ?? 0));
    const percent = Math.round(fraction * 100);
    const stage = this._progress?.message ?? this._progress?.stage ?? '';
    return html`<div class="progress">
      <div
        role="progressbar"
        aria-label=${msg(locale, 'progress')}
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${percent}
        aria-valuetext=${`${percent}%${stage ? ` · ${stage}` : ''}`}
        class="bar"
      >
        <span style="width:${percent}%"></span>
      </div>
      <p class="note" role="status">${msg(locale, 'fitting')} ${percent}%${stage ? ` · ${stage}` : ''}</p>
    </div>`;
  }

  private _renderResults(locale: Locale): TemplateResult {
    const result = this._result;
    if (!result) {
      return html`<div class="card empty"><p>${msg(locale, 'ready')}</p></div>`;
    }
    const { model } = result;
    return html`
      ${this._renderSummary(locale, model)}
      ${this._renderSegments(locale, model)}
      ${this._renderMovement(locale)}
      ${this._renderScatter(locale, result)}
      ${this._renderCentres(locale, model)}
      ${this._renderKSearch(locale, model)}
      ${this._renderStability(locale, model)}
      ${this._renderDendrogram(locale, model)}
      ${this._renderKpis(locale, model)}
      ${this._renderStrategy(locale, model)}
      ${this._renderRules(locale, model)}
    `;
  }

  private _renderSummary(locale: Locale, model: Model): TemplateResult {
    const publishing = this._publishPhase === 'publishing';
    const job = this._job;
    return html`<section class="card summary" aria-labelledby="summary-heading">
      <div class="summary-main">
        <h3 id="summary-heading">
          ${msg(locale, 'fitted', { k: model.k, n: model.data.rows, method: msg(locale, model.method) })}
        </h3>
        <dl class="facts">
          <div><dt>${msg(locale, 'silhouette')}</dt><dd>${formatNumber(model.quality.silhouette, locale, 2)}</dd></div>
          ${model.quality.stability
            ? html`<div>
                <dt>${msg(locale, 'agreement')}</dt>
                <dd>${formatPercent(model.quality.stability.agreement, locale, 1)}</dd>
              </div>`
            : nothing}
          <div><dt>${msg(locale, 'clustered')}</dt><dd>${formatNumber(model.data.clustered, locale)}</dd></div>
        </dl>
        ${model.data.noRecentOrders
          ? html`<p class="note">${msg(locale, 'noRecentOrdersNote', { n: model.data.noRecentOrders })}</p>`
          : nothing}
        ${model.data.imputed ? html`<p class="note">${msg(locale, 'imputedNote', { n: model.data.imputed })}</p>` : nothing}
        ${model.data.rejected.length
          ? html`<p class="note">${msg(locale, 'rejectedNote', { n: model.data.rejected.length })}</p>`
          : nothing}
      </div>
      <div class="publish">
        <button
          class="button primary"
          type="button"
          ?disabled=${publishing || this._publishPhase === 'published'}
          @click=${this._onPublish}
        >
          ${msg(locale, 'publish')}
        </button>
        <p class="note">${msg(locale, 'publishNote')}</p>
        ${publishing
          ? html`<div
                role="progressbar"
                class="bar"
                style="width:100%"
                aria-label=${msg(locale, 'writeback')}
                aria-valuemin="0"
                aria-valuemax=${job?.total ?? 0}
                aria-valuenow=${job?.done ?? 0}
              >
                <span style="width:${job && job.total ? Math.round((job.done / job.total) * 100) : 0}%"></span>
              </div>
              <p role="status" class="note">
                ${job && job.state !== 'queued'
                  ? msg(locale, 'publishing', { done: job.done, total: job.total })
                  : msg(locale, 'queued')}
              </p>`
          : nothing}
        ${this._publishPhase === 'published'
          ? html`<p class="status" role="status">
              ${this._showingPublished
                ? msg(locale, 'showingPublished', { date: formatDate(model.createdAt, locale) })
                : msg(locale, 'published', { updated: this._job?.updated ?? 0, skipped: this._job?.skipped ?? 0 })}
            </p>`
          : nothing}
        ${this._publishPhase === 'failed'
          ? html`<p role="alert">${msg(locale, 'publishError', { message: this._publishError })}</p>`
          : nothing}
      </div>
    </section>`;
  }

  private _segmentName(model: Model, id: string, locale: Locale): string {
    if (id === NO_RECENT_ORDERS) return msg(locale, 'noRecentOrders');
    return model.segments.find((s) => s.id === id)?.label ?? id;
  }

  private _segmentColor(model: Model | null, id: string): string {
    return model?.segments.find((s) => s.id === id)?.color ?? NEUTRAL_COLOR;
  }

  private _swatch(color: string): TemplateResult {
    return html`<span class="swatch" style="--_swatch:${color}" aria-hidden="true"></span>`;
  }

  private _priorityPill(locale: Locale, segment: Segment): TemplateResult {
    const p = segment.strategy.priority;
    return html`<span class="pill p${p}">${msg(locale, 'priority', { p })}</span>`;
  }

  private _renderSegments(locale: Locale, model: Model): TemplateResult {
    const clustered = model.data.clustered || 1;
    return html`<section class="card" aria-labelledby="segments-heading">
      <h3 id="segments-heading">${msg(locale, 'segments')}</h3>
      <div class="segments">
        ${model.segments.map((segment) => {
          const share = segment.size / clustered;
          return html`<article class="segment" style="--_swatch:${segment.color}" aria-labelledby="seg-${segment.id}">
            <div class="segment-head">
              ${this._swatch(segment.color)}
              <h4 id="seg-${segment.id}">${segment.label}</h4>
            </div>
            ${segment.archetype
              ? html`<span class="archetype">${t(`archetype.${segment.archetype}`, undefined, locale)}</span>`
              : html`<span class="archetype">${msg(locale, 'strategyBasis', { basis: segment.strategy.basis })}</span>`}
            <span class="size">
              ${msg(locale, 'customers', { n: segment.size })} ·
              ${msg(locale, 'share', { p: formatPercent(share, locale) })}
            </span>
            <span class="share" aria-hidden="true"><span style="width:${(share * 100).toFixed(1)}%"></span></span>
            <p class="why"><strong>${msg(locale, 'why')}:</strong> ${segment.why}</p>
            <div>${this._priorityPill(locale, segment)}</div>
            <p class="why">${segment.strategy.summary}</p>
            <details>
              <summary>${msg(locale, 'technologies')} (${segment.strategy.technologies.length})</summary>
              <ul class="tech">
                ${segment.strategy.technologies.map((key) => {
                  const tech = TECHNOLOGIES[key];
                  return html`<li>
                    <strong>${tech?.name ?? key}</strong> — ${tech?.explanation ?? ''}
                    ${tech ? html`<div class="kpis">${msg(locale, 'movesKpis', { kpis: tech.kpis.join(', ') })}</div>` : nothing}
                  </li>`;
                })}
              </ul>
            </details>
          </article>`;
        })}
      </div>
    </section>`;
  }

  private _renderCentres(locale: Locale, model: Model): TemplateResult {
    const hasInitial = model.segments.some((s) => s.initialCentroid);
    const span = hasInitial ? 2 : 1;
    return html`<section class="card" aria-labelledby="centres-heading">
      <h3 id="centres-heading">${msg(locale, 'centres')}</h3>
      ${hasInitial ? html`<p class="note">${msg(locale, 'centresNote')}</p>` : nothing}
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'centres') })}>
        <table>
          <thead>
            <tr>
              <th scope="col">${msg(locale, 'segment')}</th>
              ${hasInitial ? html`<td></td>` : nothing}
              ${model.features.map((f) => html`<th scope="col">${featureLabel(locale, f, false)}</th>`)}
              <th scope="col">${msg(locale, 'size')}</th>
            </tr>
          </thead>
          <tbody>
            ${model.segments.map(
              (s) => html`<tr>
                  <th scope="row" rowspan=${span}>
                    <span class="seg-name">${this._swatch(s.color)} ${s.label}</span>
                  </th>
                  ${hasInitial ? html`<td class="kind">${msg(locale, 'final')}</td>` : nothing}
                  ${model.features.map((f) => html`<td>${formatFeature(f, s.centroid[f], locale)}</td>`)}
                  <td rowspan=${span}>${formatNumber(s.size, locale)}</td>
                </tr>
                ${hasInitial
                  ? html`<tr class="initial">
                      <td class="kind">${msg(locale, 'initial')}</td>
                      ${model.features.map((f) => html`<td>${formatFeature(f, s.initialCentroid?.[f], locale)}</td>`)}
                    </tr>`
                  : nothing}`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  private _scatterCache: { key: unknown[]; series: ScatterSeries[]; shown: number; total: number } | null = null;

  private _scatterSeries(result: FitResult): { series: ScatterSeries[]; shown: number; total: number } {
    const table = this._table;
    const key = [result, table, this._x, this._y];
    if (this._scatterCache && this._scatterCache.key.every((v, i) => v === key[i])) return this._scatterCache;
    const empty = { series: [], shown: 0, total: 0 };
    if (!table) return empty;
    const xi = table.columns.indexOf(this._x);
    const yi = table.columns.indexOf(this._y);
    if (xi < 0 || yi < 0) return empty;
    const rowOf = new Map<string, number>();
    table.ids.forEach((id, row) => rowOf.set(id, row));
    const order = [...result.model.segments.map((s) => s.id), NO_RECENT_ORDERS];
    const buckets = new Map<string, { xs: number[]; ys: number[] }>(order.map((id) => [id, { xs: [], ys: [] }]));
    const picks = subsample(result.assignments.length, SCATTER_MAX_POINTS, result.model.seed);
    const width = table.columns.length;
    for (const index of picks) {
      const a = result.assignments[index];
      if (!a) continue;
      const row = rowOf.get(a.id);
      if (row === undefined) continue;
      let bucket = buckets.get(a.segment);
      if (!bucket) buckets.set(a.segment, (bucket = { xs: [], ys: [] }));
      bucket.xs.push(table.values[row * width + xi] as number);
      bucket.ys.push(table.values[row * width + yi] as number);
    }
    const locale = this._locale;
    const series = [...buckets.entries()]
      .filter(([, b]) => b.xs.length > 0)
      .map(([id, b]) => ({
        label: this._segmentName(result.model, id, locale),
        color: this._segmentColor(result.model, id),
        xs: b.xs,
        ys: b.ys,
      }));
    this._scatterCache = { key, series, shown: picks.length, total: result.assignments.length };
    return this._scatterCache;
  }

  private _renderScatter(locale: Locale, result: FitResult): TemplateResult {
    const features = this._table?.columns ?? [];
    const { series, shown, total } = this._scatterSeries(result);
    const xLabel = featureLabel(locale, this._x);
    const yLabel = featureLabel(locale, this._y);
    const stats = (values: number[]) => {
      const finite = values.filter(Number.isFinite);
      if (!finite.length) return { min: Number.NaN, mean: Number.NaN, max: Number.NaN };
      return {
        min: Math.min(...finite),
        mean: finite.reduce((a, b) => a + b, 0) / finite.length,
        max: Math.max(...finite),
      };
    };
    return html`<section class="card" aria-labelledby="scatter-heading">
      <h3 id="scatter-heading">${msg(locale, 'scatter')}</h3>
      <div class="chart-controls">
        ${(['x', 'y'] as const).map(
          (axis) => html`<div class="field">
            <label class="label" for="axis-${axis}">${msg(locale, axis === 'x' ? 'xAxis' : 'yAxis')}</label>
            <select id="axis-${axis}" data-axis=${axis} @change=${this._onAxis}>
              ${features.map(
                (f) => html`<option value=${f} ?selected=${(axis === 'x' ? this._x : this._y) === f}>
                  ${featureLabel(locale, f)}
                </option>`,
              )}
            </select>
          </div>`,
        )}
      </div>
      <p class="note">
        ${total > shown ? msg(locale, 'sampled', { shown, n: total }) : msg(locale, 'allShown', { n: total })}
      </p>
      ${scatterChart({
        series,
        xLabel,
        yLabel,
        label: msg(locale, 'chartScatter', { x: xLabel, y: yLabel }),
      })}
      <ul class="legend" aria-hidden="true">
        ${series.map((s) => html`<li>${this._swatch(s.color)} ${s.label} (${formatNumber(s.xs.length, locale)})</li>`)}
      </ul>
      <table class="visually-hidden">
        <caption>${msg(locale, 'chartScatter', { x: xLabel, y: yLabel })}</caption>
        <thead>
          <tr>
            <th scope="col">${msg(locale, 'segment')}</th>
            <th scope="col">${msg(locale, 'size')}</th>
            <th scope="col">${xLabel} min / mean / max</th>
            <th scope="col">${yLabel} min / mean / max</th>
          </tr>
        </thead>
        <tbody>
          ${series.map((s) => {
            const x = stats(s.xs as number[]);
            const y = stats(s.ys as number[]);
            return html`<tr>
              <th scope="row">${s.label}</th>
              <td>${s.xs.length}</td>
              <td>${formatFeature(this._x, x.min, locale)} / ${formatFeature(this._x, x.mean, locale)} / ${formatFeature(this._x, x.max, locale)}</td>
              <td>${formatFeature(this._y, y.min, locale)} / ${formatFeature(this._y, y.mean, locale)} / ${formatFeature(this._y, y.max, locale)}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </section>`;
  }

  private _renderKSearch(locale: Locale, model: Model): TemplateResult | typeof nothing {
    const search = model.quality.kSearch;
    if (!search || search.length === 0) return nothing;
    return html`<section class="card" aria-labelledby="ksearch-heading">
      <h3 id="ksearch-heading">${msg(locale, 'kSearch')}</h3>
      <p class="note">${msg(locale, 'kSearchNote', { k: model.k })}</p>
      ${kSearchChart({
        points: search,
        chosen: model.k,
        label: msg(locale, 'chartKSearch'),
        silhouetteLabel: msg(locale, 'silhouette'),
        inertiaLabel: msg(locale, 'inertia'),
        kLabel: msg(locale, 'k2'),
      })}
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'kSearch') })}>
        <table>
          <caption class="visually-hidden">${msg(locale, 'chartKSearch')}</caption>
          <thead>
            <tr>
              <th scope="col">k</th>
              <th scope="col">${msg(locale, 'silhouette')}</th>
              <th scope="col">${msg(locale, 'inertia')}</th>
            </tr>
          </thead>
          <tbody>
            ${search.map(
              (p) => html`<tr class=${p.k === model.k ? 'diag' : ''}>
                <th scope="row">${p.k}</th>
                <td>${formatNumber(p.silhouette, locale, 3)}</td>
                <td>${formatNumber(p.inertia, locale, 1)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  private _renderDendrogram(locale: Locale, model: Model): TemplateResult | typeof nothing {
    const tree = model.dendrogram;
    if (model.method !== 'ward' || !tree || tree.merges.length === 0) return nothing;
    const label = msg(locale, 'chartDendrogram', { k: model.k });
    const last = tree.merges.slice(-Math.min(tree.merges.length, Math.max(model.k + 2, 6))).reverse();
    return html`<section class="card" aria-labelledby="dendro-heading">
      <h3 id="dendro-heading">${msg(locale, 'dendrogram')}</h3>
      <p class="note">${msg(locale, 'dendrogramNote', { n: tree.leaves, k: model.k })}</p>
      ${dendrogramChart({
        merges: tree.merges,
        leaves: tree.leaves,
        k: model.k,
        label,
        heightLabel: msg(locale, 'height'),
      })}
      <table class="visually-hidden">
        <caption>${label}</caption>
        <thead>
          <tr><th scope="col">${msg(locale, 'height')}</th><th scope="col">${msg(locale, 'size')}</th></tr>
        </thead>
        <tbody>
          ${last.map((m) => html`<tr><td>${formatNumber(m.height, locale, 2)}</td><td>${m.size}</td></tr>`)}
        </tbody>
      </table>
    </section>`;
  }

  private _renderStability(locale: Locale, model: Model): TemplateResult {
    const s = model.quality.stability;
    return html`<section class="card" aria-labelledby="stability-heading">
      <h3 id="stability-heading">${msg(locale, 'stability')}</h3>
      ${s
        ? html`<p class="note">${msg(locale, 'stabilityNote', { train: s.trainingSize, hold: s.holdoutSize })}</p>
            ${stabilityChart({
              label: msg(locale, 'chartStability', {
                ari: formatNumber(s.ari, locale, 3),
                agreement: formatPercent(s.agreement, locale, 1),
              }),
              bars: [
                { label: msg(locale, 'ari'), value: s.ari, text: formatNumber(s.ari, locale, 3) },
                { label: msg(locale, 'agreement'), value: s.agreement, text: formatPercent(s.agreement, locale, 1) },
              ],
            })}
            <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'stability') })}>
              <table>
                <caption class="visually-hidden">${msg(locale, 'stability')}</caption>
                <thead>
                  <tr><th scope="col">${msg(locale, 'segment')}</th><th scope="col">${msg(locale, 'size')}</th></tr>
                </thead>
                <tbody>
                  ${model.segments.map(
                    (seg) => html`<tr>
                      <th scope="row"><span class="seg-name">${this._swatch(seg.color)} ${seg.label}</span></th>
                      <td>${formatNumber(seg.size, locale)}</td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        : html`<p class="note">${msg(locale, 'noStability')}</p>`}
    </section>`;
  }

  private _renderKpis(locale: Locale, model: Model): TemplateResult {
    return html`<section class="card" aria-labelledby="kpis-heading">
      <h3 id="kpis-heading">${msg(locale, 'kpis')}</h3>
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'kpis') })}>
        <table>
          <thead>
            <tr>
              <th scope="col">${msg(locale, 'segment')}</th>
              <th scope="col">${msg(locale, 'customersCol')}</th>
              <th scope="col">${msg(locale, 'share2')}</th>
              <th scope="col">${msg(locale, 'revenueShare')}</th>
              <th scope="col">${msg(locale, 'clv')}</th>
              <th scope="col">${msg(locale, 'nps')}</th>
            </tr>
          </thead>
          <tbody>
            ${model.segments.map(
              (s) => html`<tr>
                <th scope="row"><span class="seg-name">${this._swatch(s.color)} ${s.label}</span></th>
                <td>${formatNumber(s.kpis.customers, locale)}</td>
                <td>${formatPercent(s.kpis.customerShare, locale, 1)}</td>
                <td>${formatPercent(s.kpis.revenueShare, locale, 1)}</td>
                <td>${formatCurrency(s.kpis.clv, locale)}</td>
                <td>
                  ${s.kpis.nps === null ? '—' : formatNumber(s.kpis.nps, locale, 0)}
                  <span class="muted small">${msg(locale, 'npsResponses', { n: s.kpis.npsResponses })}</span>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  private _renderStrategy(locale: Locale, model: Model): TemplateResult {
    const rows = [...model.segments].sort((a, b) => a.strategy.priority - b.strategy.priority);
    return html`<section class="card" aria-labelledby="strategy-heading">
      <h3 id="strategy-heading">${msg(locale, 'strategy')}</h3>
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'strategy') })}>
        <table>
          <thead>
            <tr>
              <th scope="col">${msg(locale, 'segment')}</th>
              <th scope="col">${msg(locale, 'priorityLabel')}</th>
              <th scope="col" class="text">${msg(locale, 'strategyCol')}</th>
              <th scope="col" class="text">${msg(locale, 'technologies')}</th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (s) => html`<tr>
                <th scope="row"><span class="seg-name">${this._swatch(s.color)} ${s.label}</span></th>
                <td>${this._priorityPill(locale, s)}</td>
                <td class="text">${s.strategy.summary}</td>
                <td class="text">${s.strategy.technologies.map((k) => TECHNOLOGIES[k]?.name ?? k).join(', ')}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  private _renderRules(locale: Locale, model: Model): TemplateResult | typeof nothing {
    const explanation = model.quality.explanation;
    const withRules = model.segments.filter((s) => s.rule);
    if (!explanation && withRules.length === 0) return nothing;
    return html`<section class="card" aria-labelledby="rules-heading">
      <h3 id="rules-heading">${msg(locale, 'rules')}</h3>
      <p class="note">${msg(locale, 'rulesNote')}</p>
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'rules') })}>
        <table>
          <thead>
            <tr>
              <th scope="col">${msg(locale, 'segment')}</th>
              <th scope="col" class="text">${msg(locale, 'rule')}</th>
              <th scope="col">${msg(locale, 'accuracy')}</th>
              <th scope="col">${msg(locale, 'precision')}</th>
              <th scope="col">${msg(locale, 'recall')}</th>
              <th scope="col">${msg(locale, 'f1')}</th>
            </tr>
          </thead>
          <tbody>
            ${withRules.map((s) => {
              const r = s.rule as NonNullable<Segment['rule']>;
              return html`<tr>
                <th scope="row"><span class="seg-name">${this._swatch(s.color)} ${s.label}</span></th>
                <td class="text"><code>${r.text}</code></td>
                <td>${formatPercent(r.accuracy, locale, 1)}</td>
                <td>${formatPercent(r.precision, locale, 1)}</td>
                <td>${formatPercent(r.recall, locale, 1)}</td>
                <td>${formatNumber(r.f1, locale, 3)}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      ${explanation
        ? html`<p class="note" style="margin-top:12px">
              ${msg(locale, 'overallAccuracy', { p: formatPercent(explanation.accuracy, locale, 1) })}
            </p>
            <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'confusion')}>
              <table>
                <caption>${msg(locale, 'confusion')}</caption>
                <thead>
                  <tr>
                    <td></td>
                    ${explanation.labels.map((l) => html`<th scope="col">${this._segmentName(model, l, locale)}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${explanation.confusion.map(
                    (row, i) => html`<tr>
                      <th scope="row">${this._segmentName(model, explanation.labels[i] ?? '', locale)}</th>
                      ${row.map((v, j) => html`<td class=${i === j ? 'diag' : ''}>${formatNumber(v, locale)}</td>`)}
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`
        : nothing}
    </section>`;
  }

  private _renderMovement(locale: Locale): TemplateResult | typeof nothing {
    const published = this._published;
    const result = this._result;
    if (!result) return nothing;
    const movement = this._movement;
    if (!published || !movement) {
      return published
        ? nothing
        : html`<section class="card" aria-labelledby="movement-heading">
            <h3 id="movement-heading">${msg(locale, 'movement')}</h3>
            <p class="note">${msg(locale, 'noPublished')}</p>
          </section>`;
    }
    return html`<section class="card" aria-labelledby="movement-heading">
      <h3 id="movement-heading">${msg(locale, 'movement')}</h3>
      <p class="note">${msg(locale, 'movementNote', { moved: movement.moved, n: movement.compared })}</p>
      <div class="table-wrap" role="region" tabindex="0" aria-label=${msg(locale, 'tableOf', { name: msg(locale, 'movement') })}>
        <table>
          <caption>${msg(locale, 'movementCaption')}</caption>
          <thead>
            <tr>
              <td></td>
              ${movement.to.map(
                (id) => html`<th scope="col">
                  <span class="seg-name">${this._swatch(this._segmentColor(result.model, id))} ${this._segmentName(result.model, id, locale)}</span>
                </th>`,
              )}
            </tr>
          </thead>
          <tbody>
            ${movement.from.map(
              (id, i) => html`<tr>
                <th scope="row">
                  <span class="seg-name">${this._swatch(this._segmentColor(published, id))} ${this._segmentName(published, id, locale)}</span>
                </th>
                ${(movement.counts[i] ?? []).map(
                  (v, j) => html`<td class=${movement.to[j] === id ? 'diag' : ''}>${formatNumber(v, locale)}</td>`,
                )}
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
  }

  // ---------------------------------------------------------------- handlers

  private _onRetry(): void {
    void this._load();
  }

  private _onFeature(event: Event): void {
    const input = event.target as HTMLInputElement;
    const set = new Set(this._features);
    if (input.checked) set.add(input.value);
    else set.delete(input.value);
    const order = this._snapshot?.features ?? [...ALL_FEATURES];
    this._features = order.filter((f) => set.has(f));
  }

  private _onMethod(event: Event): void {
    this._method = (event.target as HTMLInputElement).value as Method;
  }

  private _onScaler(event: Event): void {
    this._scaler = (event.target as HTMLInputElement).value as ScalerKind;
  }

  private _onK(event: Event): void {
    const value = (event.target as HTMLSelectElement).value;
    this._k = value === 'auto' ? 'auto' : Number(value);
  }

  private _onSeed(event: Event): void {
    const value = Math.trunc(Number((event.target as HTMLInputElement).value));
    this._seed = Number.isFinite(value) && value >= 0 ? value : 0;
  }

  private _onAxis(event: Event): void {
    const select = event.target as HTMLSelectElement;
    if (select.dataset.axis === 'x') this._x = select.value;
    else this._y = select.value;
  }

  private _onSubmit(event: Event): void {
    event.preventDefault();
    void this.fit();
  }

  private _onCancel(): void {
    if (this._controller?.cancel()) fire(this, EVENTS.fitCancel, {});
  }

  private _onPublish(): void {
    void this.publish();
  }

  // ---------------------------------------------------------------- actions

  /** Fits with the current settings in the worker. Resolves when the fit finishes, fails or is cancelled. */
  async fit(): Promise<void> {
    const table = this._table;
    const controller = this._controller;
    if (!table || !controller || this._features.length === 0 || this._phase === 'fitting') return;
    const features = [...this._features];
    fire(this, EVENTS.fitStart, { features, method: this._method, k: this._k });
    this._phaseBeforeFit = this._phase;
    this._phase = 'fitting';
    this._progress = null;
    this._fitError = '';
    this._notice = '';
    const published = this._published;
    try {
      const result = await controller.fit(table, {
        features,
        k: this._k,
        method: this._method,
        seed: this._seed,
        scaler: this._scaler,
        createdAt: new Date().toISOString(),
        ...(published && sameFeatures(published.features, features) ? { previous: published } : {}),
      });
      this._result = result;
      this._showingPublished = false;
      this._phase = 'fitted';
      this._publishPhase = 'idle';
      this._job = null;
      this._publishError = '';
      this._movement = this._computeMovement(result);
      fire(this, EVENTS.fitComplete, { model: result.model });
    } catch (error) {
      this._phase = this._phaseBeforeFit;
      const e = error instanceof Error ? error : new Error(String(error));
      if (e.name === 'AbortError') this._notice = msg(this._locale, 'cancelled');
      else this._fitError = e.message;
    } finally {
      this._progress = null;
    }
  }

  /** Publishes the fitted model and follows the write-back job until it is done or failed. */
  async publish(): Promise<void> {
    const model = this._result?.model;
    if (!model || this._publishPhase === 'publishing') return;
    fire(this, EVENTS.publish, { model });
    this._publishAbort?.abort();
    const abort = (this._publishAbort = new AbortController());
    this._publishPhase = 'publishing';
    this._publishError = '';
    this._job = null;
    const api = this._api;
    try {
      const { jobId } = await api.publishModel(model, abort.signal);
      for (;;) {
        const job = await api.job(jobId, abort.signal);
        if (abort.signal.aborted) return;
        this._job = job;
        if (job.state === 'done') break;
        if (job.state === 'failed') throw new Error(job.error ?? 'The write-back job failed.');
        await new Promise((resolve) => setTimeout(resolve, this.pollInterval));
        if (abort.signal.aborted) return;
      }
      this._fetchedModel = model;
      this._publishPhase = 'published';
      fire(this, EVENTS.published, { jobId });
    } catch (error) {
      if (abort.signal.aborted) return;
      this._publishError = error instanceof Error ? error.message : String(error);
      this._publishPhase = 'failed';
    }
  }
}

function sameFeatures(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f, i) => f === b[i]);
}

declare global {
  interface HTMLElementTagNameMap {
    'smart-segment-explorer': SmartSegmentExplorer;
  }
}
