/**
 * The demo pages: a HubSpot-like contact record (`index.html`), the marketer's list (`list.html`) and the
 * admin's explorer (`explorer.html`), all talking to the Smart Segments server's JSON API. The contact record
 * opens the explorer in a modal iframe the way HubSpot's `openIframeModal` does (overlay, title, close
 * button, Escape, focus trap).
 */
import { html, nothing, render } from 'lit';
import type { TemplateResult } from 'lit';
import '../index.js';
import type { SmartSegmentBadge } from '../badge/badge.js';
import { ApiClient } from '../shared/api.js';
import type { ContactDetail, Deal } from '../shared/api.js';
import { formatCurrency, formatDate, formatFeature } from '../shared/format.js';
import { getLocale, normalizeLocale, registerStrings, setLocale, t } from '../shared/i18n.js';
import type { Locale, Params } from '../shared/i18n.js';
import { loadSnapshotCacheFirst } from '../shared/snapshot-source.js';
import type { Snapshot } from '../../src/types.js';

registerStrings('en', {
  'demo.brand': 'Smart Segments',
  'demo.language': 'Language',
  'demo.nav': 'Demo pages',
  'demo.position': '{index} of {total}',
  'demo.noResults': 'No contacts found.',
  'demo.email': 'Email',
  'demo.phone': 'Phone number',
  'demo.company': 'Company',
  'demo.jobtitle': 'Job title',
  'demo.city': 'City',
  'demo.country': 'Country',
  'demo.nps': 'Last NPS rating',
  'demo.created': 'Create date',
  'demo.segmentProperty': 'Smart segment (in HubSpot)',
  'demo.strategyProperty': 'Smart segment strategy',
  'demo.segmentCardHelp': 'Hover, focus or select the badge for the reasons, the strategy and how this contact compares with its segment.',
  'demo.wonDeals': 'Won deals',
  'demo.revenue': 'Revenue',
  'demo.features': 'Segmentation inputs',
  'demo.dealCreated': 'Deal',
  'demo.stage.closedwon': 'Closed won',
  'demo.stage.closedlost': 'Closed lost',
  'demo.loadError': 'Could not load this contact: {message}',
  'demo.noContacts': 'There are no contacts yet. Run a sync, then reload this page.',
  'demo.listTitle': 'Contacts by segment',
  'demo.listSubtitle': 'Filter by segment, search, sort and export the contacts your campaigns should target.',
  'demo.explorerTitle': 'Segment explorer',
  'demo.explorerSubtitle': 'Fit customer segments, read their strategies and publish them to HubSpot.',
  'demo.backToList': 'Contacts',
});
registerStrings('uk', {
  'demo.brand': 'Smart Segments',
  'demo.language': 'Мова',
  'demo.nav': 'Демо-сторінки',
  'demo.position': '{index} з {total}',
  'demo.noResults': 'Контактів не знайдено.',
  'demo.email': 'Ел. пошта',
  'demo.phone': 'Телефон',
  'demo.company': 'Компанія',
  'demo.jobtitle': 'Посада',
  'demo.city': 'Місто',
  'demo.country': 'Країна',
  'demo.nps': 'Остання оцінка NPS',
  'demo.created': 'Дата створення',
  'demo.segmentProperty': 'Smart-сегмент (у HubSpot)',
  'demo.strategyProperty': 'Стратегія сегмента',
  'demo.segmentCardHelp': 'Наведіть, сфокусуйте або оберіть значок, щоб побачити причини, стратегію та порівняння контакту з сегментом.',
  'demo.wonDeals': 'Виграні угоди',
  'demo.revenue': 'Виручка',
  'demo.features': 'Вхідні дані сегментації',
  'demo.dealCreated': 'Угода',
  'demo.stage.closedwon': 'Виграно',
  'demo.stage.closedlost': 'Програно',
  'demo.loadError': 'Не вдалося завантажити контакт: {message}',
  'demo.noContacts': 'Контактів ще немає. Запустіть синхронізацію й оновіть сторінку.',
  'demo.listTitle': 'Контакти за сегментами',
  'demo.listSubtitle': 'Фільтруйте за сегментом, шукайте, сортуйте й експортуйте контакти для кампаній.',
  'demo.explorerTitle': 'Оглядач сегментів',
  'demo.explorerSubtitle': 'Будуйте сегменти клієнтів, читайте їхні стратегії й публікуйте їх у HubSpot.',
  'demo.backToList': 'Контакти',
});

const LANG_KEY = 'smart-segments-lang';
const CLOSE_MESSAGE = 'smart-segments:close-modal';
const api = new ApiClient();
const tr = (key: string, params?: Params): string => t(key, params, getLocale());

type Page = 'contact' | 'list' | 'explorer';

// ---- locale ------------------------------------------------------------------------------------------------

function initialLocale(): Locale {
  const fromUrl = new URLSearchParams(location.search).get('lang');
  let stored: string | null = null;
  try {
    stored = localStorage.getItem(LANG_KEY);
  } catch {
    // storage may be blocked (private mode, iframe): fine
  }
  return normalizeLocale(fromUrl ?? stored ?? navigator.language);
}

function applyLocale(locale: Locale): void {
  document.documentElement.lang = locale;
  try {
    localStorage.setItem(LANG_KEY, locale);
  } catch {
    // ignore
  }
  setLocale(locale);
}

// ---- navigation bar ----------------------------------------------------------------------------------------

function renderNav(page: Page, onLocale: () => void): void {
  const nav = document.getElementById('nav');
  if (!nav) return;
  nav.className = 'topbar';
  // Inside HubSpot (marketplace mode) the pages are opened with a short-lived token bound to the portal:
  // carry it to the sibling pages; the contact record demo page does not exist there.
  const here = new URLSearchParams(location.search);
  const carried = new URLSearchParams();
  for (const key of ['token', 'portalId']) {
    const value = here.get(key);
    if (value) carried.set(key, value);
  }
  const suffix = carried.toString() ? `?${carried.toString()}` : '';
  const link = (href: string, target: Page, key: string) =>
    html`<li><a href=${href + suffix} aria-current=${page === target ? 'page' : nothing}>${tr(key)}</a></li>`;
  render(
    html`<span class="brand"><span class="brand-mark" aria-hidden="true">S</span>${tr('demo.brand')}</span>
      <nav class="topnav" aria-label=${tr('demo.nav')}>
        <ul>
          ${carried.has('token') ? nothing : link('/', 'contact', 'demo.contactRecord')} ${link('/list', 'list', 'demo.segmentList')}
          ${link('/explorer', 'explorer', 'demo.explorer')}
        </ul>
      </nav>
      <span class="spacer"></span>
      <span class="lang-switch">
        <label for="lang">${tr('demo.language')}</label>
        <select
          id="lang"
          @change=${(e: Event) => {
            applyLocale(normalizeLocale((e.target as HTMLSelectElement).value));
            onLocale();
          }}
        >
          <option value="en" ?selected=${getLocale() === 'en'}>English</option>
          <option value="uk" ?selected=${getLocale() === 'uk'}>Українська</option>
        </select>
      </span>`,
    nav,
  );
}

// ---- contact record ------------------------------------------------------------------------------------------

interface PickerState {
  query: string;
  open: boolean;
  active: number;
  results: number[];
}

class ContactPage {
  private readonly main: HTMLElement;
  private readonly modalRoot: HTMLElement;
  private snapshot: Snapshot | null = null;
  private contactId = '';
  private detail: ContactDetail | null = null;
  private loading = true;
  private error = '';
  private modalOpen = false;
  private returnFocus: HTMLElement | null = null;
  private picker: PickerState = { query: '', open: false, active: -1, results: [] };
  private request = 0;

  constructor(main: HTMLElement, modalRoot: HTMLElement) {
    this.main = main;
    this.modalRoot = modalRoot;
  }

  async start(): Promise<void> {
    this.contactId = new URLSearchParams(location.search).get('contact') ?? '';
    window.addEventListener('popstate', () => {
      this.contactId = new URLSearchParams(location.search).get('contact') ?? this.snapshot?.ids[0] ?? '';
      void this.loadContact();
    });
    window.addEventListener('message', (event) => {
      if (event.origin === location.origin && (event.data as { type?: string } | null)?.type === CLOSE_MESSAGE) this.closeModal();
    });
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && this.modalOpen) {
        event.preventDefault();
        this.closeModal();
      }
    });
    this.render();
    try {
      await loadSnapshotCacheFirst({
        api,
        onSnapshot: (snapshot) => {
          this.snapshot = snapshot;
          if (!this.contactId && snapshot.ids.length > 0) {
            this.contactId = snapshot.ids[0] as string;
            history.replaceState(null, '', `?contact=${encodeURIComponent(this.contactId)}`);
          }
          this.render();
        },
      });
    } catch (error) {
      // Navigation needs the snapshot; the record itself can still load by id.
      console.warn('snapshot unavailable', error);
    }
    if (!this.contactId) {
      this.loading = false;
      this.render();
      return;
    }
    await this.loadContact();
  }

  rerender(): void {
    this.render();
  }

  private async loadContact(): Promise<void> {
    const request = (this.request += 1);
    this.loading = true;
    this.error = '';
    this.render();
    try {
      const detail = await api.contact(this.contactId);
      if (request !== this.request) return;
      this.detail = detail;
    } catch (error) {
      if (request !== this.request) return;
      this.detail = null;
      this.error = error instanceof Error ? error.message : String(error);
    }
    this.loading = false;
    this.render();
    const name = this.detail ? displayName(this.detail) : '';
    document.title = `${name ? `${name} · ` : ''}${tr('demo.contactRecord')} · Smart Segments`;
  }

  private go(id: string): void {
    if (!id || id === this.contactId) return;
    this.contactId = id;
    history.pushState(null, '', `?contact=${encodeURIComponent(id)}`);
    void this.loadContact();
  }

  private position(): number {
    return this.snapshot ? this.snapshot.ids.indexOf(this.contactId) : -1;
  }

  // -- rendering --

  private render(): void {
    render(this.template(), this.main);
    render(this.modalTemplate(), this.modalRoot);
  }

  private template(): TemplateResult {
    if (!this.contactId && !this.loading) {
      return html`<p class="state">${tr('demo.noContacts')}</p>`;
    }
    return html`${this.toolbar()}
      <div class="record">
        <section class="record-left" aria-label=${tr('demo.about')}>${this.leftColumn()}</section>
        <section class="record-main" aria-label=${tr('demo.activity')}>${this.activity()}</section>
        <aside class="record-right" aria-label=${tr('demo.smartSegments')}>${this.sidebar()}</aside>
      </div>`;
  }

  private toolbar(): TemplateResult {
    const index = this.position();
    const total = this.snapshot?.ids.length ?? 0;
    const prev = index > 0 ? (this.snapshot?.ids[index - 1] ?? '') : '';
    const next = index >= 0 && index < total - 1 ? (this.snapshot?.ids[index + 1] ?? '') : '';
    return html`<div class="record-toolbar">
      <a href="/list">‹ ${tr('demo.backToList')}</a>
      ${this.pickerTemplate()}
      <span class="spacer" style="flex:1"></span>
      ${index >= 0 ? html`<span class="position">${tr('demo.position', { index: index + 1, total })}</span>` : nothing}
      <button class="btn small" type="button" ?disabled=${!prev} @click=${() => this.go(prev)}>‹ ${tr('demo.previous')}</button>
      <button class="btn small" type="button" ?disabled=${!next} @click=${() => this.go(next)}>${tr('demo.next')} ›</button>
    </div>`;
  }

  private pickerTemplate(): TemplateResult {
    const p = this.picker;
    const s = this.snapshot;
    const expanded = p.open && p.query.trim() !== '';
    return html`<div class="combo">
      <label class="visually-hidden" for="picker">${tr('demo.pickContact')}</label>
      <input
        id="picker"
        type="text"
        role="combobox"
        autocomplete="off"
        placeholder=${tr('demo.pickContact')}
        aria-autocomplete="list"
        aria-controls="picker-list"
        aria-expanded=${expanded ? 'true' : 'false'}
        aria-activedescendant=${expanded && p.active >= 0 ? `picker-${p.active}` : nothing}
        .value=${p.query}
        @input=${this.onPickerInput}
        @keydown=${this.onPickerKey}
        @blur=${() => setTimeout(() => this.setPicker({ open: false }), 150)}
      />
      ${expanded && s
        ? html`<ul id="picker-list" role="listbox" aria-label=${tr('demo.pickContact')}>
            ${p.results.length === 0 ? html`<li class="no-results" role="presentation">${tr('demo.noResults')}</li>` : nothing}
            ${p.results.map(
              (row, i) => html`<li
                id="picker-${i}"
                role="option"
                aria-selected=${i === p.active ? 'true' : 'false'}
                @mousedown=${(e: Event) => e.preventDefault()}
                @click=${() => this.pick(row)}
              >
                ${`${s.firstnames[row] ?? ''} ${s.lastnames[row] ?? ''}`.trim() || s.emails[row]}
                <small>${s.emails[row]}${s.cities[row] ? ` · ${s.cities[row]}` : ''}</small>
              </li>`,
            )}
          </ul>`
        : nothing}
    </div>`;
  }

  private leftColumn(): TemplateResult {
    if (this.loading && !this.detail) return html`<p class="state" role="status">${tr('state.loading')}</p>`;
    if (this.error) return html`<p class="state error" role="alert">${tr('demo.loadError', { message: this.error })}</p>`;
    const d = this.detail;
    if (!d) return html``;
    const p = d.properties;
    const name = displayName(d);
    const initials = name
      .split(/\s+/)
      .map((w) => w[0] ?? '')
      .join('')
      .slice(0, 2)
      .toUpperCase();
    const row = (key: string, value: string | null | undefined) =>
      value ? html`<dt>${tr(key)}</dt><dd>${value}</dd>` : nothing;
    const locale = getLocale();
    return html`<div class="identity">
        <span class="avatar" aria-hidden="true">${initials || '?'}</span>
        <h1>${name}</h1>
        ${p.jobtitle || p.company
          ? html`<p class="subtitle">${[p.jobtitle, p.company].filter(Boolean).join(' · ')}</p>`
          : nothing}
        ${p.email ? html`<a class="email" href="mailto:${p.email}">${p.email}</a>` : nothing}
      </div>
      <div class="about">
        <h2 class="section-title">${tr('demo.about')}</h2>
        <dl>
          ${row('demo.email', p.email)} ${row('demo.phone', p.phone ?? p.mobilephone)} ${row('demo.company', p.company)}
          ${row('demo.jobtitle', p.jobtitle)} ${row('demo.city', [p.city, p.state].filter(Boolean).join(', '))}
          ${row('demo.country', p.country)} ${row('demo.nps', p.hs_feedback_last_nps_rating)}
          ${row('demo.created', p.createdate ? formatDate(p.createdate, locale) : null)}
          ${row('demo.segmentProperty', segmentText(d))} ${row('demo.strategyProperty', p.smart_segment_strategy)}
        </dl>
      </div>`;
  }

  private activity(): TemplateResult {
    const tabs = html`<div class="tabs"><span>${tr('demo.activity')}</span></div>`;
    if (this.loading && !this.detail) return html`${tabs}<p class="state" role="status">${tr('state.loading')}</p>`;
    const d = this.detail;
    if (!d) return tabs;
    if (d.deals.length === 0) return html`${tabs}<p class="state">${tr('demo.noDeals')}</p>`;
    const locale = getLocale();
    const groups = new Map<string, Deal[]>();
    for (const deal of d.deals) {
      const date = deal.closedate ? new Date(deal.closedate) : null;
      const key =
        date && !Number.isNaN(date.getTime())
          ? new Intl.DateTimeFormat(locale === 'uk' ? 'uk-UA' : 'en-US', { month: 'long', year: 'numeric' }).format(date)
          : '—';
      const list = groups.get(key) ?? [];
      list.push(deal);
      groups.set(key, list);
    }
    return html`${tabs}
      <h2 class="section-title">${tr('demo.deals')} (${d.deals.length})</h2>
      ${[...groups.entries()].map(
        ([month, deals]) => html`<h3 class="timeline-month">${month}</h3>
          <ul class="timeline">
            ${deals.map((deal) => this.dealTemplate(deal))}
          </ul>`,
      )}`;
  }

  private dealTemplate(deal: Deal): TemplateResult {
    const locale = getLocale();
    const stage = deal.dealstage ?? '';
    const kind = stage === 'closedwon' ? 'won' : stage === 'closedlost' ? 'lost' : 'open';
    const stageKey = `demo.stage.${stage}`;
    const stageLabel = tr(stageKey) === stageKey ? stage : tr(stageKey);
    const amount = deal.amount === null || deal.amount === undefined || deal.amount === '' ? null : Number(deal.amount);
    return html`<li class="event ${kind}">
      <span class="event-icon" aria-hidden="true">${kind === 'won' ? '✓' : kind === 'lost' ? '✕' : '◷'}</span>
      <div>
        <h3>${deal.dealname || `${tr('demo.dealCreated')} ${deal.id}`}</h3>
        <p>
          ${stageLabel ? html`<span class="stage ${kind === 'won' ? '' : kind}">${stageLabel}</span>` : nothing}
          ${deal.closedate ? formatDate(deal.closedate, locale) : ''}
        </p>
      </div>
      <span class="amount">${amount === null || Number.isNaN(amount) ? '' : formatCurrency(amount, locale)}</span>
    </li>`;
  }

  private sidebar(): TemplateResult {
    const d = this.detail;
    const locale = getLocale();
    const won = d ? d.deals.filter((deal) => deal.dealstage === 'closedwon') : [];
    const revenue = won.reduce((sum, deal) => sum + (Number(deal.amount) || 0), 0);
    return html`<section class="card" aria-labelledby="ss-card-title">
        <div class="card-head"><h2 id="ss-card-title">${tr('demo.smartSegments')}</h2></div>
        <div class="card-body">
          ${this.contactId
            ? html`<smart-segment-badge id="badge" contact-id=${this.contactId}></smart-segment-badge>`
            : nothing}
          <p class="muted" style="margin-top:12px">${tr('demo.segmentCardHelp')}</p>
          ${d
            ? html`<h3 class="section-title" style="font-size:13px">${tr('demo.features')}</h3>
                <ul class="feature-list">
                  ${Object.entries(d.features).map(
                    ([feature, value]) => html`<li><span>${tr(`feature.${feature}`)}</span><span>${formatFeature(feature, value, locale)}</span></li>`,
                  )}
                </ul>`
            : nothing}
        </div>
        <div class="card-foot">
          <button id="open-explorer" class="btn primary" type="button" @click=${this.openModal}>${tr('demo.openExplorer')}</button>
        </div>
      </section>
      ${d
        ? html`<section class="card" aria-labelledby="deals-card-title">
            <div class="card-head"><h2 id="deals-card-title">${tr('demo.deals')} (${d.deals.length})</h2></div>
            <div class="card-body">
              <dl class="stats">
                <div><dt>${tr('demo.wonDeals')}</dt><dd>${won.length}</dd></div>
                <div><dt>${tr('demo.revenue')}</dt><dd>${formatCurrency(revenue, locale)}</dd></div>
              </dl>
            </div>
          </section>`
        : nothing}`;
  }

  private modalTemplate(): TemplateResult {
    if (!this.modalOpen) return html``;
    return html`<div class="modal-overlay" @click=${(e: Event) => e.target === e.currentTarget && this.closeModal()}>
      <span tabindex="0" @focus=${() => this.focusLastInModal()}></span>
      <div class="modal" role="dialog" aria-modal="true" aria-labelledby="modal-title">
        <div class="modal-head">
          <h2 id="modal-title">${tr('demo.explorer')}</h2>
          <button class="modal-close" type="button" aria-label=${tr('common.close')} @click=${this.closeModal}>×</button>
        </div>
        <iframe id="modal-frame" title=${tr('demo.explorer')} src="/explorer?embedded=1&lang=${getLocale()}"></iframe>
      </div>
      <span tabindex="0" @focus=${() => this.focusFirstInModal()}></span>
    </div>`;
  }

  // -- handlers --

  private readonly onPickerInput = (event: Event): void => {
    const query = (event.target as HTMLInputElement).value;
    this.setPicker({ query, open: true, active: -1, results: this.search(query) });
  };

  private readonly onPickerKey = (event: KeyboardEvent): void => {
    const p = this.picker;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      if (!p.open) return this.setPicker({ open: true });
      const n = p.results.length;
      if (n === 0) return;
      const delta = event.key === 'ArrowDown' ? 1 : -1;
      this.setPicker({ active: (p.active + delta + n) % n });
    } else if (event.key === 'Enter') {
      const row = p.results[p.active >= 0 ? p.active : 0];
      if (row !== undefined && p.open) {
        event.preventDefault();
        this.pick(row);
      }
    } else if (event.key === 'Escape' && p.open) {
      event.preventDefault();
      event.stopPropagation();
      this.setPicker({ open: false });
    }
  };

  private setPicker(patch: Partial<PickerState>): void {
    this.picker = { ...this.picker, ...patch };
    this.render();
  }

  private search(query: string): number[] {
    const s = this.snapshot;
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (!s || words.length === 0) return [];
    const out: number[] = [];
    for (let i = 0; i < s.ids.length && out.length < 8; i += 1) {
      const text = `${s.firstnames[i] ?? ''} ${s.lastnames[i] ?? ''} ${s.emails[i] ?? ''} ${s.cities[i] ?? ''}`.toLowerCase();
      if (words.every((w) => text.includes(w))) out.push(i);
    }
    return out;
  }

  private pick(row: number): void {
    const id = this.snapshot?.ids[row];
    this.picker = { query: '', open: false, active: -1, results: [] };
    if (id) this.go(id);
    else this.render();
  }

  private readonly openModal = (): void => {
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.modalOpen = true;
    document.body.style.overflow = 'hidden';
    this.setBackgroundInert(true);
    this.render();
    (this.modalRoot.querySelector('.modal-close') as HTMLElement | null)?.focus();
  };

  private readonly closeModal = (): void => {
    if (!this.modalOpen) return;
    this.modalOpen = false;
    document.body.style.overflow = '';
    this.setBackgroundInert(false);
    this.render();
    (this.returnFocus ?? document.getElementById('open-explorer'))?.focus();
    // A model may have been published meanwhile: refresh the badge and the record's properties.
    void (document.getElementById('badge') as SmartSegmentBadge | null)?.refresh();
    void this.loadContact();
  };

  /** The page behind the modal can be neither focused nor read while the modal is open. */
  private setBackgroundInert(inert: boolean): void {
    for (const id of ['nav', 'main']) {
      const element = document.getElementById(id);
      if (element) element.inert = inert;
    }
  }

  private focusFirstInModal(): void {
    (this.modalRoot.querySelector('.modal-close') as HTMLElement | null)?.focus();
  }

  private focusLastInModal(): void {
    (this.modalRoot.querySelector('iframe') as HTMLElement | null)?.focus();
  }
}

/** The written-back `smart_segment` value, with the segment's label when the published model knows it. */
function segmentText(detail: ContactDetail): string | null {
  const value = detail.properties.smart_segment;
  if (!value) return null;
  return detail.segment && detail.segment.id === value && detail.segment.label !== value ? `${detail.segment.label} (${value})` : value;
}

function displayName(detail: ContactDetail): string {
  const p = detail.properties;
  return `${p.firstname ?? ''} ${p.lastname ?? ''}`.trim() || p.email || detail.id;
}

// ---- list and explorer pages -------------------------------------------------------------------------------

function renderListPage(main: HTMLElement): void {
  const params = new URLSearchParams(location.search);
  const segment = params.get('segment') ?? '';
  const query = params.get('q') ?? '';
  render(
    html`<div class="page">
      <div class="page-head">
        <div>
          <h1>${tr('demo.listTitle')}</h1>
          <p>${tr('demo.listSubtitle')}</p>
        </div>
      </div>
      <div class="list-card">
        <smart-segment-list
          segment=${segment}
          query=${query}
          contact-href="/?contact={id}"
          @smart-segment-filter=${(event: CustomEvent<{ segment: string; query: string }>) => {
            const next = new URLSearchParams(location.search);
            for (const [key, value] of [
              ['segment', event.detail.segment],
              ['q', event.detail.query],
            ] as const) {
              if (value) next.set(key, value);
              else next.delete(key);
            }
            const qs = next.toString();
            history.replaceState(null, '', qs ? `?${qs}` : location.pathname);
          }}
        ></smart-segment-list>
      </div>
    </div>`,
    main,
  );
}

function renderExplorerPage(main: HTMLElement, embedded: boolean): void {
  render(
    html`<div class="page">
      ${embedded
        ? nothing
        : html`<div class="page-head">
            <div>
              <h1>${tr('demo.explorerTitle')}</h1>
              <p>${tr('demo.explorerSubtitle')}</p>
            </div>
          </div>`}
      <smart-segment-explorer></smart-segment-explorer>
    </div>`,
    main,
  );
}

// ---- start ---------------------------------------------------------------------------------------------------

function start(): void {
  const page = (document.body.dataset.page ?? 'contact') as Page;
  const main = document.getElementById('main') as HTMLElement;
  // Drop the static "Loading…" placeholder: Lit renders after existing children.
  main.replaceChildren();
  const embedded = window.parent !== window || new URLSearchParams(location.search).has('embedded');
  if (embedded) document.body.classList.add('embedded');
  applyLocale(initialLocale());

  let contactPage: ContactPage | null = null;
  const rerender = (): void => {
    renderNav(page, rerender);
    if (page === 'list') renderListPage(main);
    else if (page === 'explorer') renderExplorerPage(main, embedded);
    else contactPage?.rerender();
  };
  renderNav(page, rerender);

  if (page === 'list') renderListPage(main);
  else if (page === 'explorer') {
    renderExplorerPage(main, embedded);
    if (embedded) {
      // Inside the contact record's modal: Escape closes the modal (HubSpot's iframe modal does the same).
      document.addEventListener('keydown', (event) => {
        if (event.key === 'Escape' && !event.defaultPrevented) {
          window.parent.postMessage({ type: CLOSE_MESSAGE }, location.origin);
        }
      });
    }
  } else {
    contactPage = new ContactPage(main, document.getElementById('modal-root') as HTMLElement);
    void contactPage.start();
  }
}

start();
