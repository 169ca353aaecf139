import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../widget/list/list.js';
import type { SmartSegmentList } from '../../widget/list/list.js';
import { OVERSCAN, OVERSCAN_BEHIND, ROW_HEIGHT } from '../../widget/list/list.js';
import type { Snapshot } from '../../src/types.js';
import { afterEach, describe, it, json, makeModel, makeSnapshot, mockFetch } from './badge-fixtures.js';

const root = (el: SmartSegmentList) => el.shadowRoot!;
const summary = (el: SmartSegmentList) => root(el).querySelector('.summary')!.textContent!.trim();
const bodyRows = (el: SmartSegmentList) => [...root(el).querySelectorAll('.body [role="row"]')] as HTMLElement[];
const cellsOf = (row: HTMLElement) => [...row.querySelectorAll('[role="cell"]')].map((c) => c.textContent!.trim());
const chip = (el: SmartSegmentList, text: string) =>
  [...root(el).querySelectorAll('.chip')].find((c) => c.textContent!.replace(/\s+/g, ' ').includes(text)) as HTMLButtonElement;
const header = (el: SmartSegmentList, text: string) =>
  [...root(el).querySelectorAll('[role="columnheader"]')].find((c) => c.textContent!.includes(text)) as HTMLElement;

async function listOf(snapshot: Snapshot): Promise<SmartSegmentList> {
  return fixture<SmartSegmentList>(html`<smart-segment-list .snapshot=${snapshot} .model=${makeModel()}></smart-segment-list>`);
}

describe('smart-segment-list', () => {
  it('lists contacts with name, email, city, segment and the four features', async () => {
    const el = await listOf(makeSnapshot(8));
    expect(summary(el)).to.equal('Showing 8 of 8');
    const rows = bodyRows(el);
    expect(rows.length).to.equal(8);
    // row 1: Taras Shevchenko, segment profitable, frequency 1, amount 10, distance 1, satisfaction 2
    expect(cellsOf(rows[1]!)).to.deep.equal(['Taras Shevchenko', 'contact1@example.com', 'Lviv', 'Profitable', '1', '$10.00', '1 km', '2.0 / 5']);
    // row 3 has a missing satisfaction
    expect(cellsOf(rows[3]!)[7]).to.equal('—');
    await expect(el).to.be.accessible();
  });

  it('shows segment chips with counts and filters by segment', async () => {
    const el = await listOf(makeSnapshot(10));
    expect(chip(el, 'All segments').textContent!.replace(/\s+/g, ' ').trim()).to.equal('All segments 10');
    expect(chip(el, 'Loyal').textContent!.replace(/\s+/g, ' ').trim()).to.equal('Loyal 3');
    expect(chip(el, 'No recent orders').textContent!.replace(/\s+/g, ' ').trim()).to.equal('No recent orders 2');
    const filtered = oneEvent(el, 'smart-segment-filter');
    chip(el, 'Risky').click();
    expect((await filtered).detail).to.deep.equal({ segment: 'risky', query: '' });
    await el.updateComplete;
    expect(el.segment).to.equal('risky');
    expect(chip(el, 'Risky').getAttribute('aria-pressed')).to.equal('true');
    expect(summary(el)).to.equal('Showing 2 of 10');
    expect(bodyRows(el).map((r) => cellsOf(r)[1])).to.deep.equal(['contact2@example.com', 'contact6@example.com']);
    await expect(el).to.be.accessible();
  });

  it('filters on the segment attribute (e.g. from ?segment=loyal)', async () => {
    const el = await fixture<SmartSegmentList>(html`<smart-segment-list segment="loyal" .snapshot=${makeSnapshot(10)} .model=${makeModel()}></smart-segment-list>`);
    expect(summary(el)).to.equal('Showing 3 of 10');
  });

  it('uses a provided assignment map over the written-back segments', async () => {
    const assignments = new Map([['1000', 'risky'], ['1001', 'risky']]);
    const el = await fixture<SmartSegmentList>(
      html`<smart-segment-list segment="risky" .snapshot=${makeSnapshot(4)} .model=${makeModel()} .assignments=${assignments}></smart-segment-list>`,
    );
    expect(summary(el)).to.equal('Showing 3 of 4');
  });

  it('searches name, email and city, every word must match', async () => {
    const el = await listOf(makeSnapshot(20));
    const input = root(el).querySelector('input[type="search"]') as HTMLInputElement;
    input.focus();
    await sendKeys({ type: 'odesa anna' });
    await el.updateComplete;
    // Anna = rows 2, 10, 18; Odesa = rows 2, 7, 12, 17 -> only row 2
    expect(summary(el)).to.equal('Showing 1 of 20');
    expect(cellsOf(bodyRows(el)[0]!)[0]).to.equal('Anna Shevchenko');
    input.value = 'contact1';
    input.dispatchEvent(new Event('input'));
    await el.updateComplete;
    // contact1, contact10..contact19
    expect(summary(el)).to.equal('Showing 11 of 20');
  });

  it('shows a no-matches state with a working "Clear filters" button', async () => {
    const el = await listOf(makeSnapshot(8));
    el.query = 'nobody-has-this';
    await el.updateComplete;
    expect(root(el).textContent).to.contain('No contacts match your filters.');
    await expect(el).to.be.accessible();
    const clear = [...root(el).querySelectorAll('button')].find((b) => b.textContent!.includes('Clear filters'))!;
    clear.click();
    await el.updateComplete;
    expect(summary(el)).to.equal('Showing 8 of 8');
  });

  it('sorts by a column from the keyboard, toggling aria-sort', async () => {
    const el = await listOf(makeSnapshot(12));
    const amount = header(el, 'Avg order');
    expect(amount.getAttribute('aria-sort')).to.equal('none');
    (amount.querySelector('button') as HTMLButtonElement).focus();
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    expect(amount.getAttribute('aria-sort')).to.equal('ascending');
    expect(cellsOf(bodyRows(el)[0]!)[5]).to.equal('$0.00');
    await sendKeys({ press: 'Space' });
    await el.updateComplete;
    expect(header(el, 'Avg order').getAttribute('aria-sort')).to.equal('descending');
    expect(cellsOf(bodyRows(el)[0]!)[5]).to.equal('$110');
    // missing values sort last in both directions
    const satisfaction = header(el, 'Satisfaction').querySelector('button') as HTMLButtonElement;
    satisfaction.click();
    await el.updateComplete;
    satisfaction.click();
    await el.updateComplete;
    const sats = bodyRows(el).map((r) => cellsOf(r)[7]);
    expect(sats[0]).to.equal('5.0 / 5');
    expect(sats.slice(-2)).to.deep.equal(['—', '—']);
    await expect(el).to.be.accessible();
  });

  it('links names to the contact record with the contact-href template', async () => {
    const el = await fixture<SmartSegmentList>(
      html`<smart-segment-list contact-href="/?contact={id}" .snapshot=${makeSnapshot(3)} .model=${makeModel()}></smart-segment-list>`,
    );
    const links = [...root(el).querySelectorAll('.body a')].map((a) => [a.textContent!.trim(), a.getAttribute('href')]);
    expect(links).to.deep.equal([
      ['Olena Shevchenko', '/?contact=1000'],
      ['Taras Shevchenko', '/?contact=1001'],
      ['Anna Shevchenko', '/?contact=1002'],
    ]);
  });

  it('sorts names by last name, then first name', async () => {
    const el = await listOf(makeSnapshot(16));
    (header(el, 'Name').querySelector('button') as HTMLButtonElement).click();
    await el.updateComplete;
    const names = bodyRows(el).map((r) => cellsOf(r)[0]);
    // rows 8..15 are "Kovalenko", 0..7 "Shevchenko": Kovalenko first, then by first name
    expect(names.slice(0, 3)).to.deep.equal(['Andrii Kovalenko', 'Anna Kovalenko', 'Iryna Kovalenko']);
  });

  it('renders a bounded number of rows for 100,000 contacts and the right rows after scrolling', async () => {
    const el = await listOf(makeSnapshot(100_000));
    expect(summary(el)).to.equal('Showing 100,000 of 100,000');
    const scroller = root(el).querySelector('.scroller') as HTMLElement;
    const perScreen = Math.ceil(scroller.clientHeight / ROW_HEIGHT);
    expect(bodyRows(el).length).to.be.at.most(perScreen + 2 * OVERSCAN + 2);
    const table = root(el).querySelector('[role="table"]')!;
    expect(table.getAttribute('aria-rowcount')).to.equal('100001');
    scroller.scrollTop = ROW_HEIGHT * 50_000;
    await waitUntil(() => bodyRows(el).some((r) => r.getAttribute('aria-rowindex') === '50002'), 'row 50,000 was not rendered');
    const rows = bodyRows(el);
    expect(rows.length).to.be.at.most(perScreen + 2 * OVERSCAN + 2);
    const row = rows.find((r) => r.getAttribute('aria-rowindex') === '50002')!;
    expect(cellsOf(row)[1]).to.equal('contact50000@example.com');
    // the row is actually in view
    const rowBox = row.getBoundingClientRect();
    const box = scroller.getBoundingClientRect();
    expect(rowBox.top).to.be.at.least(box.top - ROW_HEIGHT);
    expect(rowBox.bottom).to.be.at.most(box.bottom + ROW_HEIGHT);
  });

  it('renders the overscan in the direction of scrolling, and only the rows in view right after a long jump', async () => {
    const el = await listOf(makeSnapshot(100_000));
    const scroller = root(el).querySelector('.scroller') as HTMLElement;
    // Body rows in view: those not under the sticky header (one row high).
    const inView = () => {
      const first = Math.floor(scroller.scrollTop / ROW_HEIGHT);
      const last = Math.ceil((scroller.scrollTop + scroller.clientHeight - ROW_HEIGHT) / ROW_HEIGHT) - 1;
      return { first, last };
    };
    const positions = () => bodyRows(el).map((r) => Number(r.getAttribute('aria-rowindex')) - 2);
    const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

    // A jump of many screens (a fling, a scrollbar drag): the next frame lands elsewhere, no overscan.
    scroller.scrollTop = ROW_HEIGHT * 40_000 + 10;
    await waitUntil(() => positions().includes(40_000), 'row 40,000 was not rendered');
    let view = inView();
    expect(Math.min(...positions())).to.equal(view.first);
    expect(Math.max(...positions())).to.equal(view.last);
    // Once it settles, the overscan is rendered below (the direction of the scroll), one row above.
    await settle();
    await el.updateComplete;
    expect(Math.max(...positions())).to.equal(view.last + OVERSCAN);
    expect(Math.min(...positions())).to.equal(view.first - OVERSCAN_BEHIND);

    // A wheel step up: the overscan moves above the rows in view.
    scroller.scrollTop -= 100;
    await waitUntil(() => Math.min(...positions()) === inView().first - OVERSCAN, 'no overscan above after scrolling up');
    view = inView();
    expect(Math.max(...positions())).to.equal(view.last + OVERSCAN_BEHIND);
    // Every row in view is rendered, at its place, with its contact.
    for (let position = view.first; position <= view.last; position += 1) {
      const row = bodyRows(el).find((r) => r.getAttribute('aria-rowindex') === String(position + 2))!;
      expect(cellsOf(row)[1]).to.equal(`contact${position}@example.com`);
    }
    await expect(el).to.be.accessible();
  });

  it('exports the filtered rows as RFC 4180 CSV', async () => {
    const snapshot = makeSnapshot(4);
    snapshot.firstnames[0] = 'Olena "Lena"';
    snapshot.cities[0] = 'Kyiv, Obolon';
    snapshot.lastnames[2] = 'Line\nBreak';
    const el = await listOf(snapshot);
    el.segment = 'loyal';
    await el.updateComplete;
    expect(el.toCsv()).to.equal(
      'id,firstname,lastname,email,city,country,segment,segment_label,purchase_frequency,avg_order_amount,distance_km,satisfaction\r\n' +
        '1000,"Olena ""Lena""",Shevchenko,contact0@example.com,"Kyiv, Obolon",Ukraine,loyal,Loyal,0,0,0,1\r\n',
    );
    el.segment = 'risky';
    await el.updateComplete;
    expect(el.toCsv().split('\r\n')[1]).to.equal('1002,Anna,"Line\nBreak",contact2@example.com,Odesa,Ukraine,risky,Risky,2,20,2,3');
    const exported = oneEvent(el, 'smart-segment-export');
    (([...root(el).querySelectorAll('button')].find((b) => b.textContent!.includes('Export CSV'))) as HTMLButtonElement).click();
    expect((await exported).detail).to.deep.equal({ rows: 1 });
  });

  it('shows the empty state for a snapshot without contacts', async () => {
    const el = await listOf(makeSnapshot(0));
    expect(root(el).querySelector('[role="status"]')!.textContent).to.contain('No contacts yet');
    await expect(el).to.be.accessible();
  });

  it('renders Ukrainian strings with lang="uk"', async () => {
    const el = await fixture<SmartSegmentList>(html`<smart-segment-list lang="uk" .snapshot=${makeSnapshot(8)} .model=${makeModel()}></smart-segment-list>`);
    expect(summary(el)).to.equal('Показано 8 з 8');
    expect(Boolean(chip(el, 'Лояльні'))).to.equal(true);
    expect(Boolean(header(el, "Ім'я"))).to.equal(true);
    await expect(el).to.be.accessible();
  });

  it('re-renders the toolbar, the header and the segment labels when its lang changes, and keeps them current while scrolling', async () => {
    const el = await listOf(makeSnapshot(200));
    const scroller = root(el).querySelector('.scroller') as HTMLElement;
    scroller.scrollTop = ROW_HEIGHT * 100;
    await waitUntil(() => bodyRows(el).some((r) => r.getAttribute('aria-rowindex') === '102'), 'row 100 was not rendered');
    el.setAttribute('lang', 'uk');
    await waitUntil(() => summary(el) === 'Показано 200 з 200', 'the toolbar kept its English text');
    expect(Boolean(header(el, "Ім'я"))).to.equal(true);
    expect(chip(el, 'Лояльні').textContent!.replace(/\s+/g, ' ').trim()).to.equal('Лояльні 50');
    expect(bodyRows(el).some((r) => cellsOf(r)[3] === 'Лояльні')).to.equal(true);
    // Sorting and filtering still reach the header and the toolbar after scrolling.
    (header(el, "Ім'я").querySelector('button') as HTMLButtonElement).click();
    await el.updateComplete;
    expect(header(el, "Ім'я").getAttribute('aria-sort')).to.equal('ascending');
    const loyal = [...root(el).querySelectorAll('.chip')][1] as HTMLButtonElement;
    loyal.click();
    await el.updateComplete;
    expect(summary(el)).to.equal('Показано 50 з 200');
    expect(loyal.getAttribute('aria-pressed')).to.equal('true');
    el.setAttribute('lang', 'en');
    await waitUntil(() => summary(el) === 'Showing 50 of 200', 'the toolbar kept its Ukrainian text');
    expect(header(el, 'Name').getAttribute('aria-sort')).to.equal('ascending');
    await expect(el).to.be.accessible();
  });
});

describe('smart-segment-list (fetching)', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it('loads the snapshot and model from the API, showing loading then the rows', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    restore = mockFetch({
      '/api/snapshot': async () => {
        await gate;
        return json(makeSnapshot(6, 'fetched'));
      },
      '/api/model': () => json(makeModel()),
    }).restore;
    const el = await fixture<SmartSegmentList>(html`<smart-segment-list no-cache></smart-segment-list>`);
    expect(root(el).querySelector('[role="status"]')!.textContent).to.contain('Loading');
    await expect(el).to.be.accessible();
    release();
    await waitUntil(() => root(el).querySelector('.summary'), 'rows did not appear');
    expect(summary(el)).to.equal('Showing 6 of 6');
    await expect(el).to.be.accessible();
  });

  it('shows an error with the server message and retries', async () => {
    let fail = true;
    restore = mockFetch({
      '/api/snapshot': () => (fail ? json({ error: { message: 'Sync has not run yet', code: 'no_snapshot' } }, 503) : json(makeSnapshot(3, 'retry'))),
      '/api/model': () => json({ error: { message: 'none', code: 'no_model' } }, 404),
    }).restore;
    const el = await fixture<SmartSegmentList>(html`<smart-segment-list no-cache></smart-segment-list>`);
    await waitUntil(() => root(el).querySelector('[role="alert"]'), 'no error shown');
    expect(root(el).querySelector('[role="alert"]')!.textContent).to.contain('Sync has not run yet');
    await expect(el).to.be.accessible();
    fail = false;
    (root(el).querySelector('[role="alert"] button') as HTMLButtonElement).click();
    await waitUntil(() => root(el).querySelector('.summary'), 'rows did not appear after retry');
    expect(summary(el)).to.equal('Showing 3 of 3');
  });
});
