import { expect, fixture, html } from '@open-wc/testing';
import { getLocale, localeFor, normalizeLocale, registerStrings, setLocale, t } from '../../widget/shared/i18n.js';
import '../../widget/badge/badge.js';
import type { SmartSegmentBadge } from '../../widget/badge/badge.js';
import { describe, it, makeModel } from './badge-fixtures.js';

describe('i18n', () => {
  it('fills placeholders and formats numbers for the locale', () => {
    expect(t('list.showing', { shown: 1234, total: 2500 }, 'en')).to.equal('Showing 1,234 of 2,500');
    expect(t('list.showing', { shown: 1234, total: 2500 }, 'uk')).to.equal('Показано 1\u00a0234 з 2\u00a0500');
  });

  it('falls back to English, then to the key', () => {
    registerStrings('en', { 'test.onlyEnglish': 'Only English' });
    expect(t('test.onlyEnglish', undefined, 'uk')).to.equal('Only English');
    expect(t('test.missing', undefined, 'uk')).to.equal('test.missing');
  });

  it('normalises language tags to a supported locale', () => {
    expect(normalizeLocale('uk-UA')).to.equal('uk');
    expect(normalizeLocale('en_GB')).to.equal('en');
    expect(normalizeLocale('de')).to.equal('en');
    expect(normalizeLocale(null)).to.equal('en');
  });

  it('finds the nearest lang attribute, through shadow roots', async () => {
    const host = await fixture(html`<div lang="uk"><span></span></div>`);
    const inner = host.querySelector('span')!;
    const shadow = inner.attachShadow({ mode: 'open' });
    const deep = document.createElement('b');
    shadow.append(deep);
    expect(localeFor(deep)).to.equal('uk');
  });

  it('setLocale changes the page default', () => {
    setLocale('uk');
    expect(getLocale()).to.equal('uk');
    setLocale('en');
    expect(getLocale()).to.equal('en');
  });

  it('renders the badge in Ukrainian with lang="uk"', async () => {
    const wrapper = await fixture(html`<div lang="uk">
      <smart-segment-badge .model=${null} .contact=${{ id: '1', features: {} }}></smart-segment-badge>
      <smart-segment-badge .model=${makeModel()} .contact=${{ id: '2', features: {}, segment: 'loyal' }}></smart-segment-badge>
    </div>`);
    const [none, loyal] = [...wrapper.querySelectorAll('smart-segment-badge')] as SmartSegmentBadge[];
    await none!.updateComplete;
    expect(none!.shadowRoot!.querySelector('button')!.textContent!.trim()).to.equal('Ще не сегментовано');
    expect(loyal!.shadowRoot!.querySelector('button')!.textContent!.trim()).to.equal('Лояльні');
    loyal!.shadowRoot!.querySelector('button')!.click();
    await loyal!.updateComplete;
    const card = loyal!.shadowRoot!.querySelector('[role="dialog"]')!;
    expect(card.textContent).to.contain('Чому цей сегмент');
    expect(card.textContent).to.contain('Пріоритет 1');
    await expect(loyal!).to.be.accessible();
  });

  it('re-renders when the lang attribute changes', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${null} .contact=${{ id: '1', features: {} }}></smart-segment-badge>`);
    expect(el.shadowRoot!.querySelector('button')!.textContent!.trim()).to.equal('Not segmented yet');
    el.setAttribute('lang', 'uk');
    await new Promise((r) => setTimeout(r, 0));
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('button')!.textContent!.trim()).to.equal('Ще не сегментовано');
  });
});
