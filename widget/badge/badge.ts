import { LitElement, html, nothing, svg } from 'lit';
import type { PropertyValues, SVGTemplateResult, TemplateResult } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { Model, Segment } from '../../src/types.js';
import { NO_RECENT_ORDERS } from '../../src/types.js';
import { TECHNOLOGIES } from '../../src/strategy.js';
import { ApiClient, ApiError } from '../shared/api.js';
import { fire } from '../shared/events.js';
import { formatFeature, isMissing } from '../shared/format.js';
import { LocaleController } from '../shared/locale-controller.js';
import { displaySegment, displaySegmentId, nearestSegment } from '../shared/segments.js';
import type { SegmentDisplay } from '../shared/segments.js';
import { focusRing, NEUTRAL_COLOR, themeStyles, utilityStyles } from '../shared/theme.js';
import { badgeStyles } from './badge.styles.js';

/** A contact as the badge needs it (standalone use). */
export interface BadgeContact {
  id: string;
  features: Record<string, number | null>;
  /** Segment id already assigned (e.g. the written-back `smart_segment`); computed from the model when absent. */
  segment?: string | null;
}

export type BadgeState = 'idle' | 'loading' | 'ready' | 'none' | 'no-orders' | 'unknown' | 'error';

const HOVER_OPEN_MS = 120;
const HOVER_CLOSE_MS = 250;
let nextId = 0;

/**
 * A contact's segment as a compact badge (colour dot + label). Hovering, focusing or pressing it opens a
 * card with why the contact is in the segment, the segment's strategy (priority, technologies and the KPIs
 * they move) and the contact's feature values against the segment centre.
 *
 * Standalone: set `model` and `contact`. Connected: set `contact-id` (and `api-base` when the API is not on
 * the same origin); it fetches `/api/contacts/:id/segment` and `/api/model`, and the contact's feature
 * values from `/api/contacts/:id` when the card is first opened.
 *
 * @fires smart-segment-open - The user opened the card. detail: { contactId, segmentId }
 * @csspart base - The badge button.
 * @csspart card - The details card.
 * @cssprop --smart-segment-text - Text colour (default #33475b).
 * @cssprop --smart-segment-border - Border colour (default #cbd6e2).
 * @cssprop --smart-segment-accent - Accent colour (default #0091ae).
 * @cssprop --smart-segment-card-width - Card width (default 380px).
 * @cssprop --smart-segment-badge-background - Badge background (default white).
 * @attr contact-id - The HubSpot contact id.
 * @attr api-base - Base URL of the Smart Segments API (default: same origin).
 * @attr card-align - `end` aligns the card to the badge's right edge (for right-hand sidebars).
 */
@customElement('smart-segment-badge')
export class SmartSegmentBadge extends LitElement {
  static override styles = [themeStyles, focusRing, utilityStyles, badgeStyles];

  /** The HubSpot contact id. */
  @property({ attribute: 'contact-id', reflect: true }) contactId = '';

  /** Base URL of the API; '' = same origin. */
  @property({ attribute: 'api-base' }) apiBase = '';

  /** The published model (property only). `null` = none published yet. */
  @property({ attribute: false }) model: Model | null | undefined = undefined;

  /** The contact's features and optional segment id (property only). Setting it disables fetching. */
  @property({ attribute: false }) contact: BadgeContact | null | undefined = undefined;

  /** Where the card opens: `start` (below, left-aligned) or `end` (below, right-aligned). */
  @property({ attribute: 'card-align', reflect: true }) cardAlign: 'start' | 'end' = 'start';

  @state() private _state: BadgeState = 'idle';
  @state() private _open = false;
  @state() private _error = '';
  @state() private _fetchedModel: Model | null = null;
  @state() private _fetchedContact: BadgeContact | null = null;
  @state() private _featuresState: 'idle' | 'loading' | 'loaded' | 'failed' = 'idle';

  @query('.badge') private _button!: HTMLButtonElement | null;
  @query('.card') private _card!: HTMLElement | null;

  private readonly _i18n = new LocaleController(this);
  private readonly _uid = `ssb-${(nextId += 1)}`;
  private _segment: Segment | null = null;
  private _display: SegmentDisplay | null = null;
  private _imputed = false;
  private _abort: AbortController | null = null;
  private _hoverTimer: ReturnType<typeof setTimeout> | undefined;
  private _focusOnOpen = false;
  private _suppressFocusOpen = false;
  private _openedBy: 'click' | 'focus' | 'hover' | null = null;

  /** The state being shown (for host pages and tests). */
  get state(): BadgeState {
    return this._state;
  }

  /** Whether the card is open. */
  get open(): boolean {
    return this._open;
  }

  /** Opens the card (programmatic: no event). */
  show(): void {
    this._open = true;
    this._openedBy = 'click';
    if (this._state === 'ready') void this._loadFeatures();
  }

  /** Closes the card. */
  hide(): void {
    this._open = false;
  }

  /** Fetches the contact and model again (e.g. after a new model was published). No-op when standalone. */
  refresh(): Promise<void> {
    if (this.contact || !this.contactId) return Promise.resolve();
    return this._load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this._abort?.abort();
    clearTimeout(this._hoverTimer);
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const standalone = this.contact !== undefined && this.contact !== null;
    if (standalone && (changed.has('contact') || changed.has('model'))) {
      this._abort?.abort();
      this._resolve(this.contact as BadgeContact, this.model ?? null);
    } else if (!standalone && (changed.has('contactId') || changed.has('apiBase') || changed.has('contact'))) {
      if (this.contactId) void this._load();
      else this._state = 'idle';
    } else if (!standalone && changed.has('model') && this._fetchedContact) {
      this._resolve(this._fetchedContact, this.model ?? this._fetchedModel);
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('_open' as keyof SmartSegmentBadge) && this._open) {
      this._keepCardInView();
      if (this._focusOnOpen) {
        this._focusOnOpen = false;
        this._card?.focus();
      }
    }
  }

  /** Shifts the card left when it would overflow the viewport's right edge (e.g. in a right-hand sidebar). */
  private _keepCardInView(): void {
    const card = this._card;
    if (!card || typeof window === 'undefined') return;
    card.style.left = '';
    card.style.right = '';
    const rect = card.getBoundingClientRect();
    const overflow = rect.right - (window.innerWidth - 8);
    if (overflow > 0) card.style.left = `${-Math.min(overflow, Math.max(0, rect.left - 8))}px`;
  }

  /** Works out the shown state from a contact and model. */
  private _resolve(contact: BadgeContact, model: Model | null): void {
    this._segment = null;
    this._display = null;
    this._imputed = false;
    if (!model) {
      this._state = 'none';
      return;
    }
    let segmentId = contact.segment ?? null;
    if (!segmentId) {
      const nearest = nearestSegment(model, contact.features);
      segmentId = nearest?.segment ?? null;
      this._imputed = nearest?.imputed ?? false;
    }
    if (!segmentId) {
      this._state = 'none';
      return;
    }
    if (segmentId === NO_RECENT_ORDERS) {
      this._state = 'no-orders';
      return;
    }
    this._segment = model.segments.find((s) => s.id === segmentId) ?? null;
    this._display = this._segment
      ? displaySegment(this._segment, this._i18n.locale)
      : displaySegmentId(segmentId, model, this._i18n.locale);
    this._state = 'ready';
  }

  /**
   * Fetch mode: `/api/contacts/:id/segment` and `/api/model` decide the badge; the contact's feature values
   * (for the card's profile) come from `/api/contacts/:id` only when the card is first opened.
   */
  private async _load(): Promise<void> {
    this._abort?.abort();
    const abort = new AbortController();
    this._abort = abort;
    this._state = 'loading';
    this._error = '';
    this._featuresState = 'idle';
    const api = new ApiClient(this.apiBase);
    try {
      const [answer, model] = await Promise.all([
        api.contactSegment(this.contactId, abort.signal),
        this.model !== undefined ? Promise.resolve(this.model) : api.model(abort.signal),
      ]);
      if (abort.signal.aborted) return;
      const segmentObject = typeof answer.segment === 'object' ? answer.segment : null;
      let segmentId = answer.assignment?.segment ?? (typeof answer.segment === 'string' ? answer.segment : segmentObject?.id) ?? null;
      let features: Record<string, number | null> = {};
      if (model && !segmentId) {
        // Not assigned yet (e.g. created after the last publish): place it with the model from its features.
        const detail = await api.contact(this.contactId, abort.signal);
        if (abort.signal.aborted) return;
        features = detail.features ?? {};
        segmentId = detail.assignment?.segment ?? null;
        this._featuresState = 'loaded';
      }
      const contact: BadgeContact = { id: this.contactId, features, segment: segmentId };
      this._fetchedContact = contact;
      this._fetchedModel = model;
      this._resolve(contact, model);
      if ((this._state as BadgeState) === 'ready' && !this._segment && segmentObject) {
        this._segment = segmentObject;
        this._display = displaySegment(segmentObject, this._i18n.locale);
      }
      this._imputed = this._imputed || Boolean(answer.assignment?.imputed);
    } catch (error) {
      if (abort.signal.aborted) return;
      if (error instanceof ApiError && error.status === 404) {
        this._state = 'unknown';
      } else {
        this._state = 'error';
        this._error = error instanceof Error ? error.message : String(error);
      }
    }
  }

  /** Loads the contact's feature values for the card's profile (fetch mode, first opening only). */
  private async _loadFeatures(): Promise<void> {
    const contact = this._fetchedContact;
    if (!contact || this.contact || this._featuresState !== 'idle') return;
    this._featuresState = 'loading';
    const signal = this._abort?.signal;
    try {
      const detail = await new ApiClient(this.apiBase).contact(contact.id, signal);
      if (signal?.aborted || this._fetchedContact !== contact) return;
      this._fetchedContact = { ...contact, features: detail.features ?? {} };
      this._featuresState = 'loaded';
    } catch {
      // The profile is a detail: without it the card still explains the segment.
      if (!signal?.aborted) this._featuresState = 'failed';
    }
  }

  // ---- rendering ----

  protected override render(): TemplateResult {
    return html`${this._renderBadge()}${this._open ? this._renderCard() : nothing}`;
  }

  private _badgeContent(): { label: string; color: string; kind: 'ok' | 'neutral' | 'error' } {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    switch (this._state) {
      case 'ready':
        return { label: this._display?.label ?? '', color: this._display?.color ?? NEUTRAL_COLOR, kind: 'ok' };
      case 'none':
        return { label: tr('segment.none'), color: NEUTRAL_COLOR, kind: 'neutral' };
      case 'no-orders':
        return { label: tr('segment.noRecentOrders'), color: NEUTRAL_COLOR, kind: 'neutral' };
      case 'unknown':
        return { label: tr('segment.unknownContact'), color: NEUTRAL_COLOR, kind: 'error' };
      case 'error':
        return { label: tr('badge.unavailable'), color: NEUTRAL_COLOR, kind: 'error' };
      default:
        return { label: tr('state.loading'), color: NEUTRAL_COLOR, kind: 'neutral' };
    }
  }

  private _renderBadge(): TemplateResult {
    if (this._state === 'loading' || this._state === 'idle') {
      return html`<span part="base" class="badge static" role="status"
        ><span class="spinner" aria-hidden="true"></span><span class="label">${this._i18n.t('state.loading')}</span></span
      >`;
    }
    const { label, color, kind } = this._badgeContent();
    return html`<button
      part="base"
      class="badge ${kind === 'error' ? 'error' : ''}"
      type="button"
      aria-haspopup="dialog"
      aria-expanded=${this._open ? 'true' : 'false'}
      aria-controls=${this._open ? `${this._uid}-card` : nothing}
      aria-label=${this._i18n.t('badge.openCard', { label })}
      @click=${this._onClick}
      @focus=${this._onFocus}
      @keydown=${this._onKeydown}
      @focusout=${this._onFocusOut}
      @mouseenter=${this._onMouseEnter}
      @mouseleave=${this._onMouseLeave}
    >
      <span class="dot" style="background:${color}" aria-hidden="true"></span>
      <span class="label">${label}</span>
    </button>`;
  }

  private _renderCard(): TemplateResult {
    const { label, color } = this._badgeContent();
    return html`<div
      id="${this._uid}-card"
      part="card"
      class="card ${this._openedBy === 'hover' ? 'preview' : ''}"
      role="dialog"
      aria-labelledby="${this._uid}-title"
      tabindex="-1"
      @keydown=${this._onKeydown}
      @focusout=${this._onFocusOut}
    >
      <div class="card-header">
        <span class="dot" style="background:${color}" aria-hidden="true"></span>
        <h2 id="${this._uid}-title">${label}</h2>
        <button class="close" type="button" aria-label=${this._i18n.t('common.close')} @click=${this._onClose}>×</button>
      </div>
      ${this._renderCardBody()}
    </div>`;
  }

  private _renderCardBody(): TemplateResult | typeof nothing {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    switch (this._state) {
      case 'none':
        return html`<p>${tr('segment.noneHelp')}</p>`;
      case 'no-orders':
        return html`<p>${tr('segment.noRecentOrdersHelp')}</p>`;
      case 'unknown':
        return html`<p role="alert">${tr('segment.unknownContactHelp', { id: this.contactId || this.contact?.id || '' })}</p>`;
      case 'error':
        return html`<p role="alert" class="error">${tr('state.error', { message: this._error })}</p>
          <button class="button retry" type="button" @click=${this._onRetry}>${tr('state.retry')}</button>`;
      case 'ready':
        return this._renderSegmentDetails();
      default:
        return nothing;
    }
  }

  private _renderSegmentDetails(): TemplateResult {
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    const segment = this._segment;
    if (!segment) return html`<p class="note">${tr('segment.unassigned')}</p>`;
    const strategy = segment.strategy;
    return html`
      <h3>${tr('badge.why')}</h3>
      <p>${segment.why}</p>
      ${this._renderProfile(segment)}
      ${strategy
        ? html`<h3>${tr('badge.strategy')}</h3>
            <p>
              <span class="priority" title=${tr('badge.priorityHelp', { priority: strategy.priority })}
                >${tr('badge.priority', { priority: strategy.priority })}</span
              >${strategy.summary}
            </p>
            ${segment.archetype === null
              ? html`<p class="note">${tr('badge.basisNote', { archetype: tr(`archetype.${strategy.basis}`) })}</p>`
              : nothing}
            <h3>${tr('badge.technologies')}</h3>
            <ul class="tech">
              ${strategy.technologies.map((key) => {
                const tech = TECHNOLOGIES[key];
                if (!tech) return nothing;
                return html`<li>
                  <span class="tech-name">${tech.name}</span>
                  <span class="tech-expl">${tech.explanation}</span>
                  <span class="kpis">${tr('badge.movesKpis', { kpis: tech.kpis.slice(0, 3).join(', ') })}</span>
                </li>`;
              })}
            </ul>`
        : nothing}
    `;
  }

  private _renderProfile(segment: Segment): TemplateResult | typeof nothing {
    const contact = this.contact ?? this._fetchedContact;
    const model = this.model ?? this._fetchedModel;
    if (!contact || this._featuresState === 'failed') return nothing;
    if (!this.contact && this._featuresState !== 'loaded') {
      return html`<h3>${this._i18n.t('badge.profile')}</h3>
        <p class="note" role="status"><span class="spinner" aria-hidden="true"></span> ${this._i18n.t('state.loading')}</p>`;
    }
    const features = model?.features ?? Object.keys(segment.centroid);
    const locale = this._i18n.locale;
    const tr = (key: string, params?: Record<string, string | number>) => this._i18n.t(key, params);
    const color = this._display?.color ?? NEUTRAL_COLOR;
    return html`
      <h3 id="${this._uid}-profile">${tr('badge.profile')}</h3>
      <table aria-labelledby="${this._uid}-profile">
        <thead>
          <tr>
            <th scope="col">${tr('badge.feature')}</th>
            <th scope="col" class="num">${tr('badge.contact')}</th>
            <th scope="col" class="num">${tr('badge.centre')}</th>
            <td aria-hidden="true"></td>
          </tr>
        </thead>
        <tbody>
          ${features.map((feature) => {
            const value = contact.features[feature] ?? null;
            const centre = segment.centroid[feature] ?? null;
            const name = tr(`feature.${feature}`);
            return html`<tr>
              <th scope="row">${name}</th>
              <td class="num">${formatFeature(feature, value, locale)}</td>
              <td class="num">${formatFeature(feature, centre, locale)}</td>
              <td class="bars">
                ${compareBars(value, centre, color, `${name}: ${formatFeature(feature, value, locale)} / ${formatFeature(feature, centre, locale)}`)}
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
      <div class="legend" aria-hidden="true">
        <span><span class="legend-swatch" style="background:#33475b"></span>${tr('badge.contact')}</span>
        <span><span class="legend-swatch" style="background:${color}"></span>${tr('badge.centre')}</span>
      </div>
      ${this._imputed ? html`<p class="note">${tr('badge.imputed')}</p>` : nothing}
    `;
  }

  // ---- handlers ----

  private _setOpen(open: boolean, byUser: boolean, by: 'click' | 'focus' | 'hover' | null = null): void {
    if (open && this._open && this._openedBy === 'hover' && by !== 'hover') {
      // Focus or a click turns a hover preview into the interactive card.
      this._openedBy = by;
      this.requestUpdate();
      return;
    }
    if (open === this._open) return;
    this._open = open;
    this._openedBy = open ? by : null;
    if (open && this._state === 'ready') void this._loadFeatures();
    if (open && byUser) {
      fire(this, 'smart-segment-open', {
        contactId: this.contactId || this.contact?.id || '',
        segmentId: this._state === 'ready' ? (this._display?.id ?? null) : this._state === 'no-orders' ? NO_RECENT_ORDERS : null,
      });
    }
  }

  private _onClick(): void {
    clearTimeout(this._hoverTimer);
    if (this._open && this._openedBy === 'click') {
      this._setOpen(false, true);
      return;
    }
    // A card shown by hover or focus is "pinned" by a click (or Enter): it stays open and takes focus.
    this._focusOnOpen = true;
    if (this._open) {
      this._openedBy = 'click';
      this.requestUpdate(); // the preview becomes an interactive card
      this._card?.focus();
      this._focusOnOpen = false;
    } else {
      this._setOpen(true, true, 'click');
    }
  }

  private _onFocus(): void {
    // Focus shows the card like a tooltip; focus stays on the badge (Enter moves into the card).
    if (!this._suppressFocusOpen) this._setOpen(true, true, 'focus');
  }

  private _onKeydown(event: KeyboardEvent): void {
    if (event.key === 'Escape' && this._open) {
      event.stopPropagation();
      this._setOpen(false, true);
      this._focusBadgeQuietly();
    }
  }

  /** Returns focus to the badge without the focus re-opening the card. */
  private _focusBadgeQuietly(): void {
    this._suppressFocusOpen = true;
    this._button?.focus({ preventScroll: true });
    this._suppressFocusOpen = false;
  }

  private _onMouseEnter(): void {
    clearTimeout(this._hoverTimer);
    if (!this._open) this._hoverTimer = setTimeout(() => this._setOpen(true, true, 'hover'), HOVER_OPEN_MS);
  }

  private _onMouseLeave(): void {
    clearTimeout(this._hoverTimer);
    if (this._open && this._openedBy === 'hover' && !this.shadowRoot?.activeElement) {
      this._hoverTimer = setTimeout(() => this._setOpen(false, true), HOVER_CLOSE_MS);
    }
  }

  private _onFocusOut(event: FocusEvent): void {
    const next = event.relatedTarget as Node | null;
    if (next && (this.shadowRoot?.contains(next) || this.contains(next))) return;
    if (next === null) return;
    this._setOpen(false, true);
  }

  private _onClose(): void {
    this._setOpen(false, true);
    this._focusBadgeQuietly();
  }

  private _onRetry(): void {
    this._open = false;
    void this._load();
  }
}

/** Two horizontal bars (contact, centre) on a shared scale: a pure number -> svg function. */
export function compareBars(value: number | null, centre: number | null, color: string, label: string): SVGTemplateResult {
  const width = 96;
  const a = isMissing(value) ? 0 : Math.abs(value);
  const b = isMissing(centre) ? 0 : Math.abs(centre);
  const max = Math.max(a, b) || 1;
  const wa = (a / max) * width;
  const wb = (b / max) * width;
  return svg`<svg width=${width} height="16" viewBox="0 0 ${width} 16" role="img" aria-label=${label}>
    <title>${label}</title>
    <rect x="0" y="1" width=${wa} height="6" rx="1" fill="#33475b"></rect>
    <rect x="0" y="9" width=${wb} height="6" rx="1" fill=${color}></rect>
  </svg>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'smart-segment-badge': SmartSegmentBadge;
  }
}
