import { aTimeout, expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';
import type { Model } from '../../src/types.js';
import '../../widget/explorer/explorer.js';
import type { SmartSegmentExplorer } from '../../widget/explorer/explorer.js';
import type { Job } from '../../widget/shared/api.js';
import { afterEach, describe, emptySnapshot, it, json, paperSnapshot, stubFetch } from './explorer.fixtures.js';

type Stub = ReturnType<typeof stubFetch>;

const root = (el: SmartSegmentExplorer) => el.shadowRoot as ShadowRoot;
const $ = <T extends Element = HTMLElement>(el: SmartSegmentExplorer, selector: string) =>
  root(el).querySelector<T>(selector);
const $$ = <T extends Element = HTMLElement>(el: SmartSegmentExplorer, selector: string) => [
  ...root(el).querySelectorAll<T>(selector),
];
const text = (el: SmartSegmentExplorer) => root(el).textContent?.replace(/\s+/g, ' ') ?? '';
const headings = (el: SmartSegmentExplorer) => $$(el, 'h3').map((h) => h.textContent?.trim().replace(/\s+/g, ' '));
const fitButton = (el: SmartSegmentExplorer) => $<HTMLButtonElement>(el, 'button[type="submit"]');

async function fitted(el: SmartSegmentExplorer): Promise<void> {
  const done = oneEvent(el, 'smart-segment-fit-complete');
  fitButton(el)?.click();
  await done;
  await el.updateComplete;
}

function choose(el: SmartSegmentExplorer, selector: string, value: string): void {
  const select = $<HTMLSelectElement>(el, selector) as HTMLSelectElement;
  select.value = value;
  select.dispatchEvent(new Event('change'));
}

/** A worker that reports progress once and then never answers: lets tests see the running state. */
class SilentWorker extends EventTarget {
  terminated = false;
  posted = 0;
  postMessage(): void {
    this.posted++;
    setTimeout(() => {
      if (this.terminated) return;
      const data = { type: 'progress', event: { stage: 'kmeans', fraction: 0.4, message: 'Clustering' } };
      this.dispatchEvent(new MessageEvent('message', { data }));
    }, 0);
  }
  terminate(): void {
    this.terminated = true;
  }
}

describe('<smart-segment-explorer>', () => {
  let stub: Stub | null = null;
  afterEach(() => {
    stub?.restore();
    stub = null;
  });

  describe('loading, error and empty states', () => {
    it('shows a loading status while the snapshot is being fetched', async () => {
      stub = stubFetch(() => new Promise<Response>(() => {}));
      const el = await fixture<SmartSegmentExplorer>(html`<smart-segment-explorer no-cache></smart-segment-explorer>`);
      const status = $(el, '[role="status"]');
      expect(status?.textContent).to.contain('Loading contacts');
      expect(stub.calls.some((c) => c.path === '/api/snapshot')).to.equal(true);
      await expect(el).to.be.accessible();
    });

    it('shows the server message in an alert when the snapshot cannot be loaded, and retries', async () => {
      let fail = true;
      const snapshot = paperSnapshot(120);
      stub = stubFetch((url) => {
        if (url.pathname === '/api/model') return json({ error: { message: 'No model', code: 'not_found' } }, 404);
        return fail ? json({ error: { message: 'Portal not synced yet', code: 'no_snapshot' } }, 503) : json(snapshot);
      });
      const el = await fixture<SmartSegmentExplorer>(html`<smart-segment-explorer no-cache></smart-segment-explorer>`);
      await waitUntil(() => $(el, '[role="alert"]'), 'no alert shown');
      expect($(el, '[role="alert"]')?.textContent).to.contain('Portal not synced yet');
      await expect(el).to.be.accessible();
      fail = false;
      ($(el, '.load-error button') as HTMLButtonElement).click();
      await waitUntil(() => fitButton(el), 'controls did not appear after retry');
      expect(text(el)).to.contain('120 contacts');
    });

    it('explains that there is nothing to segment when the snapshot has no contacts', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${emptySnapshot()}></smart-segment-explorer>`,
      );
      expect($(el, '[role="status"]')?.textContent).to.contain('No contacts to segment yet');
      expect(fitButton(el)).to.equal(null);
      await expect(el).to.be.accessible();
    });
  });

  describe('controls', () => {
    it('offers every feature with the paper four checked, k-means, k = 3 and z-score by default', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(150)}></smart-segment-explorer>`,
      );
      const boxes = $$<HTMLInputElement>(el, 'input[name="feature"]');
      expect(boxes.map((b) => b.value)).to.deep.equal([
        'purchase_frequency',
        'avg_order_amount',
        'distance_km',
        'satisfaction',
        'recency_days',
        'monetary_total',
      ]);
      expect(boxes.filter((b) => b.checked).map((b) => b.value)).to.deep.equal([
        'purchase_frequency',
        'avg_order_amount',
        'distance_km',
        'satisfaction',
      ]);
      expect($<HTMLInputElement>(el, 'input[name="method"]:checked')?.value).to.equal('kmeans');
      expect($<HTMLSelectElement>(el, '#k')?.value).to.equal('3');
      expect($<HTMLInputElement>(el, 'input[name="scaler"]:checked')?.value).to.equal('zscore');
      expect(text(el)).to.contain('press “Fit segments”');
      await expect(el).to.be.accessible();
    });

    it('disables Fit until at least one feature is selected', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(150)}></smart-segment-explorer>`,
      );
      for (const box of $$<HTMLInputElement>(el, 'input[name="feature"]:checked')) box.click();
      await el.updateComplete;
      expect(fitButton(el)?.disabled).to.equal(true);
      expect(text(el)).to.contain('Select at least one feature');
      await expect(el).to.be.accessible();
    });

    it('is driven by the keyboard: Tab reaches the controls, Space toggles a feature, Enter fits', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(200)}></smart-segment-explorer>`,
      );
      await sendKeys({ press: 'Tab' });
      const first = root(el).activeElement as HTMLInputElement;
      expect(first?.value).to.equal('purchase_frequency');
      await sendKeys({ press: 'Space' });
      expect(first.checked).to.equal(false);
      await sendKeys({ press: 'Space' });
      expect(first.checked).to.equal(true);
      for (let i = 0; i < 20 && root(el).activeElement !== fitButton(el); i++) await sendKeys({ press: 'Tab' });
      expect(root(el).activeElement).to.equal(fitButton(el));
      const started = oneEvent(el, 'smart-segment-fit-start');
      const done = oneEvent(el, 'smart-segment-fit-complete');
      await sendKeys({ press: 'Enter' });
      const start = await started;
      expect(start.detail).to.deep.equal({
        features: ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'],
        method: 'kmeans',
        k: 3,
      });
      const complete = await done;
      expect(complete.detail.model.k).to.equal(3);
    });
  });

  describe('fitted results', () => {
    it('shows every k-means result section with accessible charts and tables', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(300)}></smart-segment-explorer>`,
      );
      await fitted(el);
      expect(headings(el)).to.include.members([
        'Segments',
        'Segment centres',
        'Customers by two features',
        'Holdout stability',
        'KPIs per segment',
        'Strategy and priorities',
        'Explanation rules',
      ]);
      expect(headings(el)).not.to.include('Ward dendrogram');
      expect(headings(el)).not.to.include('Choosing k');
      const cards = $$(el, 'article.segment');
      expect(cards.map((c) => c.querySelector('h4')?.textContent)).to.have.length(3);
      expect(text(el)).to.contain('Priority 1');
      expect(text(el)).to.contain('Automation and robotics');
      expect(text(el)).to.contain('Showing all 300 customers');
      for (const chart of $$(el, 'svg[role="img"]')) {
        expect(chart.getAttribute('aria-label')).to.have.length.greaterThan(10);
        expect(chart.querySelector('title')?.textContent).to.equal(chart.getAttribute('aria-label'));
      }
      // Initial and final centres in original units: a final and an initial row per segment.
      const centreRows = $$(el, 'section[aria-labelledby="centres-heading"] tbody tr');
      expect(centreRows).to.have.length(3 * 2);
      expect(centreRows[1]?.textContent).to.contain('initial');
      await expect(el).to.be.accessible();
    });

    it('shows the k choice and the Ward dendrogram with its cut when Ward runs with k = auto', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(300)}></smart-segment-explorer>`,
      );
      ($(el, 'input[name="method"][value="ward"]') as HTMLInputElement).click();
      choose(el, '#k', 'auto');
      await el.updateComplete;
      await fitted(el);
      expect(headings(el)).to.include.members(['Choosing k', 'Ward dendrogram']);
      expect($(el, 'svg[aria-label^="Dendrogram"]')?.getAttribute('aria-label')).to.equal(
        'Dendrogram with a cut at 3 segments',
      );
      expect($$(el, 'section[aria-labelledby="ksearch-heading"] tbody tr')).to.have.length(7);
      await expect(el).to.be.accessible();
    });

    it('subsamples the scatter plot to 5,000 points and says so', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(6000)}></smart-segment-explorer>`,
      );
      await fitted(el);
      expect(text(el)).to.contain('Showing a random 5,000 of 6,000 customers');
      const drawn = $$(el, 'svg[aria-label^="Scatter"] path')
        .map((p) => (p.getAttribute('d') ?? '').split('M').length - 1)
        .reduce((a, b) => a + b, 0);
      expect(drawn).to.equal(5000);
    });

    it('redraws the scatter plot for the features chosen in the axis selects', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(200)}></smart-segment-explorer>`,
      );
      await fitted(el);
      choose(el, '#axis-x', 'distance_km');
      choose(el, '#axis-y', 'satisfaction');
      await el.updateComplete;
      expect($(el, 'svg[aria-label^="Scatter"]')?.getAttribute('aria-label')).to.equal(
        'Scatter plot of Distance (km) against Satisfaction (1–5), coloured by segment',
      );
    });
  });

  describe('running, cancelling and failing', () => {
    it('shows progress while fitting and returns to the previous state when cancelled', async () => {
      const workers: SilentWorker[] = [];
      const factory = () => {
        const w = new SilentWorker();
        workers.push(w);
        return w as unknown as Worker;
      };
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(100)} .workerFactory=${factory}></smart-segment-explorer>`,
      );
      fitButton(el)?.click();
      await waitUntil(() => $(el, '[role="progressbar"]')?.getAttribute('aria-valuenow') === '40', 'no progress');
      expect($<HTMLFieldSetElement>(el, 'fieldset')?.disabled).to.equal(true);
      await expect(el).to.be.accessible();
      const cancelled = oneEvent(el, 'smart-segment-fit-cancel');
      const cancel = $$<HTMLButtonElement>(el, 'button').find((b) => b.textContent?.trim() === 'Cancel');
      cancel?.click();
      await cancelled;
      await el.updateComplete;
      expect(workers[0]?.terminated).to.equal(true);
      expect($(el, '[role="progressbar"]')).to.equal(null);
      expect(fitButton(el)?.textContent?.trim()).to.equal('Fit segments');
      expect(text(el)).to.contain('Fit cancelled');
      expect(text(el)).to.contain('press “Fit segments”');
      await expect(el).to.be.accessible();
    });

    it('keeps the earlier results when a refit is cancelled', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(150)}></smart-segment-explorer>`,
      );
      await fitted(el);
      el.workerFactory = () => new SilentWorker() as unknown as Worker;
      await el.updateComplete;
      fitButton(el)?.click();
      await el.updateComplete;
      $$<HTMLButtonElement>(el, 'button').find((b) => b.textContent?.trim() === 'Cancel')?.click();
      await waitUntil(() => fitButton(el), 'Fit button did not come back');
      expect(fitButton(el)?.textContent?.trim()).to.equal('Fit again');
      expect($$(el, 'article.segment')).to.have.length(3);
    });

    it('shows the core error message in an alert when the fit fails', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(5)}></smart-segment-explorer>`,
      );
      choose(el, '#k', '8');
      await el.updateComplete;
      fitButton(el)?.click();
      await waitUntil(() => $(el, '[role="alert"]'), 'no alert after failing fit', { timeout: 10000 });
      expect($(el, '[role="alert"]')?.textContent).to.match(/The fit failed: .*8/);
      expect(fitButton(el)).not.to.equal(null);
      await expect(el).to.be.accessible();
    });
  });

  describe('publishing', () => {
    it('posts the model, shows write-back progress and then "published"', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => (release = resolve));
      const jobs: Job[] = [
        { state: 'running', done: 120, total: 300, updated: 110, skipped: 10 },
        { state: 'done', done: 300, total: 300, updated: 280, skipped: 20 },
      ];
      let posted: unknown = null;
      let polls = 0;
      stub = stubFetch(async (url, init) => {
        if (url.pathname === '/api/model' && init?.method === 'POST') {
          posted = JSON.parse(String(init.body));
          return json({ jobId: 'job-1' }, 202);
        }
        if (url.pathname === '/api/jobs/job-1') {
          if (polls++ > 0) await gate;
          return json(jobs[Math.min(polls - 1, 1)]);
        }
        return json({ error: { message: 'unexpected', code: 'x' } }, 500);
      });
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(300)} .pollInterval=${10}></smart-segment-explorer>`,
      );
      await fitted(el);
      const publishing = oneEvent(el, 'smart-segment-publish');
      const publishButton = $$<HTMLButtonElement>(el, 'button').find((b) => b.textContent?.includes('Publish'));
      publishButton?.click();
      const { detail } = await publishing;
      expect(detail.model.kind).to.equal('smart-segments-model');
      await waitUntil(() => text(el).includes('120 of 300'), 'no write-back progress');
      const bar = $(el, '[role="progressbar"][aria-valuemax="300"]');
      expect(bar?.getAttribute('aria-valuenow')).to.equal('120');
      expect(publishButton?.disabled).to.equal(true);
      await expect(el).to.be.accessible();
      const published = oneEvent(el, 'smart-segment-published');
      release();
      expect((await published).detail).to.deep.equal({ jobId: 'job-1' });
      await el.updateComplete;
      expect(text(el)).to.contain('Published. 280 contacts updated, 20 unchanged.');
      expect((posted as Model).segments).to.have.length(3);
      await expect(el).to.be.accessible();
    });

    it('shows why publishing failed in an alert', async () => {
      stub = stubFetch(() => json({ error: { message: 'HubSpot token expired', code: 'auth' } }, 401));
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(150)}></smart-segment-explorer>`,
      );
      await fitted(el);
      $$<HTMLButtonElement>(el, 'button').find((b) => b.textContent?.includes('Publish'))?.click();
      await waitUntil(() => $(el, '[role="alert"]'), 'no publish alert');
      expect($(el, '[role="alert"]')?.textContent).to.contain('Publishing failed: HubSpot token expired');
      await expect(el).to.be.accessible();
    });

    it('reports a failed write-back job in an alert', async () => {
      stub = stubFetch((url, init) =>
        init?.method === 'POST'
          ? json({ jobId: 'j' }, 202)
          : json({ state: 'failed', done: 3, total: 9, updated: 3, skipped: 0, error: 'rate limited' }),
      );
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(150)}></smart-segment-explorer>`,
      );
      await fitted(el);
      await el.publish();
      await el.updateComplete;
      expect($(el, '[role="alert"]')?.textContent).to.contain('rate limited');
    });
  });

  describe('movement since the published model', () => {
    it('counts how many contacts move between the published segments and the new ones', async () => {
      const snapshot = paperSnapshot(300);
      const { table } = paperTable({ n: 300, seed: 7 });
      const published = fit(table, { k: 2, method: 'kmeans', seed: 1 }).model;
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${snapshot} .model=${published}></smart-segment-explorer>`,
      );
      await fitted(el);
      const section = $(el, 'section[aria-labelledby="movement-heading"]') as HTMLElement;
      expect(section).not.to.equal(null);
      const rows = [...section.querySelectorAll('tbody tr')];
      expect(rows).to.have.length(2);
      const cells = rows.flatMap((r) => [...r.querySelectorAll('td')].map((td) => Number(td.textContent?.replace(/,/g, ''))));
      expect(cells.reduce((a, b) => a + b, 0)).to.equal(300);
      expect(section.textContent).to.match(/\d+ of 300 contacts would change segment/);
      await expect(el).to.be.accessible();
    });

    it('opens on the live segments of the published model, with its settings chosen', async () => {
      const snapshot = paperSnapshot(300);
      const { table } = paperTable({ n: 300, seed: 7 });
      const published = fit(table, { k: 3, method: 'ward', seed: 5, createdAt: '2026-11-01T10:00:00.000Z' }).model;
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${snapshot} .model=${published}></smart-segment-explorer>`,
      );
      await el.updateComplete;
      expect(text(el)).to.contain('These are the live segments, published Nov 1, 2026');
      expect(headings(el)).to.include('Strategy and priorities');
      expect(($(el, 'input[type="radio"][value="ward"]') as HTMLInputElement | null)?.checked).to.equal(true);
      await aTimeout(0);
      await expect(el).to.be.accessible();
    });

    it('says nothing moves yet when no model has been published', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer .snapshot=${paperSnapshot(120)}></smart-segment-explorer>`,
      );
      await fitted(el);
      expect(text(el)).to.contain('No model has been published yet');
    });
  });

  describe('languages', () => {
    it('speaks Ukrainian with lang="uk"', async () => {
      const el = await fixture<SmartSegmentExplorer>(
        html`<smart-segment-explorer lang="uk" .snapshot=${paperSnapshot(120)}></smart-segment-explorer>`,
      );
      expect($(el, 'h2')?.textContent).to.equal('Дослідник сегментів');
      expect(fitButton(el)?.textContent?.trim()).to.equal('Знайти сегменти');
      await fitted(el);
      expect(headings(el)).to.include('Стратегія та пріоритети');
      await aTimeout(0);
      await expect(el).to.be.accessible();
    });
  });
});
