import { expect, fixture, html, oneEvent, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../../widget/badge/badge.js';
import type { SmartSegmentBadge } from '../../widget/badge/badge.js';
import { afterEach, describe, it, json, makeModel, mockFetch } from './badge-fixtures.js';

const loyalContact = {
  id: '42',
  features: { purchase_frequency: 70, avg_order_amount: 15, distance_km: 20, satisfaction: 4.5 },
};

function button(el: SmartSegmentBadge): HTMLButtonElement {
  return el.shadowRoot!.querySelector('button.badge') as HTMLButtonElement;
}
function card(el: SmartSegmentBadge): HTMLElement | null {
  return el.shadowRoot!.querySelector('[role="dialog"]');
}

describe('smart-segment-badge (standalone properties)', () => {
  it('shows the segment nearest to the contact, labelled and coloured', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    expect(el.state).to.equal('ready');
    expect(button(el).textContent!.trim()).to.equal('Loyal');
    expect(button(el).getAttribute('aria-expanded')).to.equal('false');
    await expect(el).to.be.accessible();
  });

  it('uses the segment id given with the contact instead of recomputing it', async () => {
    const el = await fixture<SmartSegmentBadge>(
      html`<smart-segment-badge .model=${makeModel()} .contact=${{ ...loyalContact, segment: 'risky' }}></smart-segment-badge>`,
    );
    expect(button(el).textContent!.trim()).to.equal('Risky');
  });

  it('says "Not segmented yet" when no model is published', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${null} .contact=${loyalContact}></smart-segment-badge>`);
    expect(el.state).to.equal('none');
    expect(button(el).textContent!.trim()).to.equal('Not segmented yet');
    await expect(el).to.be.accessible();
    button(el).click();
    await el.updateComplete;
    expect(card(el)!.textContent).to.contain('No segmentation model has been published yet');
    await expect(el).to.be.accessible();
  });

  it('says "No recent orders" for a contact with zero orders in the window', async () => {
    const contact = { id: '7', features: { ...loyalContact.features, purchase_frequency: 0 } };
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${contact}></smart-segment-badge>`);
    expect(el.state).to.equal('no-orders');
    expect(button(el).textContent!.trim()).to.equal('No recent orders');
    button(el).click();
    await el.updateComplete;
    expect(card(el)!.textContent).to.contain('no won deals');
    await expect(el).to.be.accessible();
  });
});

describe('smart-segment-badge card', () => {
  it('opens on focus with why, strategy priority, technologies with KPIs and the feature profile', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    const opened = oneEvent(el, 'smart-segment-open');
    button(el).focus();
    const event = await opened;
    expect(event.detail).to.deep.equal({ contactId: '42', segmentId: 'loyal' });
    await el.updateComplete;
    const dialog = card(el)!;
    expect(Boolean(dialog)).to.equal(true);
    expect(button(el).getAttribute('aria-expanded')).to.equal('true');
    expect(button(el).getAttribute('aria-controls')).to.equal(dialog.id);
    const text = dialog.textContent!.replace(/\s+/g, ' ');
    expect(text).to.contain('Why Loyal');
    expect(text).to.contain('Priority 1');
    expect(text).to.contain('Automation and robotics');
    expect(text).to.contain('Moves: Customer retention');
    // profile table: contact 70 orders vs the centre 66.96 (shown to 1 decimal)
    const rows = [...dialog.querySelectorAll('tbody tr')].map((tr) => [...tr.children].map((c) => c.textContent!.trim()));
    expect(rows[0]!.slice(0, 3)).to.deep.equal(['Orders (12 mo)', '70', '67']);
    expect(rows[2]!.slice(0, 3)).to.deep.equal(['Distance', '20 km', '23 km']);
    expect(dialog.querySelectorAll('svg[role="img"] title').length).to.equal(4);
    await expect(el).to.be.accessible();
  });

  it('closes on Escape and returns focus to the badge', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    await sendKeys({ press: 'Tab' });
    await el.updateComplete;
    expect(el.open).to.equal(true);
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(el.open).to.equal(false);
    expect(card(el)).to.equal(null);
    expect(el.shadowRoot!.activeElement).to.equal(button(el));
    expect(button(el).getAttribute('aria-expanded')).to.equal('false');
    await expect(el).to.be.accessible();
  });

  it('Enter on the badge toggles the card and moves focus into the dialog; Escape from inside closes it', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    await sendKeys({ press: 'Tab' });
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(el.open).to.equal(false);
    await sendKeys({ press: 'Enter' });
    await el.updateComplete;
    await el.updateComplete;
    expect(el.open).to.equal(true);
    expect(el.shadowRoot!.activeElement).to.equal(card(el));
    await sendKeys({ press: 'Tab' });
    expect(el.shadowRoot!.activeElement!.getAttribute('aria-label')).to.equal('Close');
    await sendKeys({ press: 'Escape' });
    await el.updateComplete;
    expect(el.open).to.equal(false);
    expect(el.shadowRoot!.activeElement).to.equal(button(el));
  });

  it('closes when keyboard focus moves past the card', async () => {
    const wrapper = await fixture(html`<div>
      <smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>
      <button id="after">after</button>
    </div>`);
    const el = wrapper.querySelector('smart-segment-badge') as SmartSegmentBadge;
    await el.updateComplete;
    button(el).focus();
    await el.updateComplete;
    expect(el.open).to.equal(true);
    await sendKeys({ press: 'Tab' });
    await el.updateComplete;
    // the card's close button is the next stop: still open
    expect(el.open).to.equal(true);
    expect(el.shadowRoot!.activeElement!.getAttribute('aria-label')).to.equal('Close');
    await sendKeys({ press: 'Tab' });
    await el.updateComplete;
    expect(document.activeElement!.id).to.equal('after');
    expect(el.open).to.equal(false);
  });

  it('opens on hover after a short delay and closes when the pointer leaves', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    button(el).dispatchEvent(new MouseEvent('mouseenter'));
    await waitUntil(() => el.open, 'card did not open on hover');
    await el.updateComplete;
    expect(Boolean(card(el))).to.equal(true);
    button(el).dispatchEvent(new MouseEvent('mouseleave'));
    await waitUntil(() => !el.open, 'card did not close after the pointer left');
  });

  it('a hover preview lets the pointer through to the page beneath; a click pins the card', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    button(el).dispatchEvent(new MouseEvent('mouseenter'));
    await waitUntil(() => el.open, 'card did not open on hover');
    await el.updateComplete;
    expect(getComputedStyle(card(el)!).pointerEvents).to.equal('none');
    button(el).click();
    await el.updateComplete;
    expect(el.open).to.equal(true);
    expect(getComputedStyle(card(el)!).pointerEvents).to.equal('auto');
    await expect(el).to.be.accessible();
  });

  it('the close button closes the card', async () => {
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge .model=${makeModel()} .contact=${loyalContact}></smart-segment-badge>`);
    button(el).click();
    await el.updateComplete;
    (card(el)!.querySelector('button.close') as HTMLButtonElement).click();
    await el.updateComplete;
    expect(el.open).to.equal(false);
  });
});

describe('smart-segment-badge (fetching)', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  const detail = (segment: string | null) => ({
    id: '42',
    properties: { firstname: 'Olena' },
    features: loyalContact.features,
    deals: [],
    segment: null,
    assignment: segment ? { id: '42', segment, distance: 0.4, imputed: false } : null,
  });

  it('shows a loading state, then the segment from /api/contacts/:id/segment and /api/model', async () => {
    const model = makeModel();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const mock = mockFetch({
      '/api/contacts/42/segment': async () => {
        await gate;
        return json({
          contactId: '42',
          segment: model.segments[1],
          assignment: { id: '42', segment: 'profitable', distance: 0.4, imputed: false },
          model: { createdAt: model.createdAt },
        });
      },
      '/api/contacts/42': () => json(detail('profitable')),
      '/api/model': () => json(model),
    });
    restore = mock.restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    expect(el.state).to.equal('loading');
    expect(el.shadowRoot!.querySelector('[role="status"]')!.textContent).to.contain('Loading');
    await expect(el).to.be.accessible();
    release();
    await waitUntil(() => el.state === 'ready');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Profitable');
    expect(mock.calls).to.have.members(['GET /api/contacts/42/segment', 'GET /api/model']);
    await expect(el).to.be.accessible();
  });

  it('loads the feature profile only when the card opens', async () => {
    const model = makeModel();
    const mock = mockFetch({
      '/api/contacts/42/segment': () =>
        json({ contactId: '42', segment: model.segments[0], assignment: { id: '42', segment: 'loyal', distance: 0.1, imputed: false }, model: { createdAt: model.createdAt } }),
      '/api/contacts/42': () => json(detail('loyal')),
      '/api/model': () => json(model),
    });
    restore = mock.restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'ready');
    expect(mock.calls).not.to.include('GET /api/contacts/42');
    button(el).click();
    await waitUntil(() => card(el)?.querySelectorAll('tbody tr').length === 4, 'profile did not load');
    expect(mock.calls).to.include('GET /api/contacts/42');
    const first = [...card(el)!.querySelectorAll('tbody tr')][0]!;
    expect([...first.children].slice(0, 3).map((c) => c.textContent!.trim())).to.deep.equal(['Orders (12 mo)', '70', '67']);
    await expect(el).to.be.accessible();
  });

  it('places a contact without an assignment with the model, from its features', async () => {
    restore = mockFetch({
      '/api/contacts/42/segment': () => json({ contactId: '42', segment: null, assignment: null, model: { createdAt: 'x' } }),
      '/api/contacts/42': () => json(detail(null)),
      '/api/model': () => json(makeModel()),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'ready');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Loyal');
  });

  it('says "No recent orders" for a contact assigned to no_recent_orders', async () => {
    restore = mockFetch({
      '/api/contacts/42/segment': () =>
        json({ contactId: '42', segment: null, assignment: { id: '42', segment: 'no_recent_orders', distance: null, imputed: false }, model: { createdAt: 'x' } }),
      '/api/model': () => json(makeModel()),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'no-orders');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('No recent orders');
  });

  it('says "Not segmented yet" when /api/model answers 404', async () => {
    restore = mockFetch({
      '/api/contacts/42/segment': () => json({ contactId: '42', segment: null, assignment: null, model: null }),
      '/api/model': () => json({ error: { message: 'No model published yet', code: 'no_model' } }, 404),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'none');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Not segmented yet');
    await expect(el).to.be.accessible();
  });

  it('shows "Unknown contact" when the contact does not exist', async () => {
    restore = mockFetch({
      '/api/contacts/999/segment': () => json({ error: { message: 'There is no contact with id "999".', code: 'unknown_contact' } }, 404),
      '/api/model': () => json(makeModel()),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="999"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'unknown');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Unknown contact');
    button(el).click();
    await el.updateComplete;
    expect(card(el)!.querySelector('[role="alert"]')!.textContent).to.contain('Contact 999 was not found');
    await expect(el).to.be.accessible();
  });

  it('shows the server error message and retries on request', async () => {
    let fail = true;
    restore = mockFetch({
      '/api/contacts/42/segment': () =>
        fail
          ? json({ error: { message: 'Store is closed', code: 'internal' } }, 500)
          : json({ contactId: '42', segment: 'loyal', assignment: { id: '42', segment: 'loyal', distance: 0.1, imputed: false }, model: { createdAt: 'x' } }),
      '/api/model': () => json(makeModel()),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'error');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Segment unavailable');
    button(el).click();
    await el.updateComplete;
    expect(card(el)!.querySelector('[role="alert"]')!.textContent).to.contain('Store is closed');
    await expect(el).to.be.accessible();
    fail = false;
    (card(el)!.querySelector('button.retry') as HTMLButtonElement).click();
    await waitUntil(() => el.state === 'ready');
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Loyal');
  });

  it('refresh() fetches again, e.g. after a model was published', async () => {
    let published = false;
    restore = mockFetch({
      '/api/contacts/42/segment': () =>
        json(
          published
            ? { contactId: '42', segment: 'risky', assignment: { id: '42', segment: 'risky', distance: 1, imputed: false }, model: { createdAt: 'x' } }
            : { contactId: '42', segment: null, assignment: null, model: null },
        ),
      '/api/model': () => (published ? json(makeModel()) : json({ error: { message: 'none', code: 'no_model' } }, 404)),
    }).restore;
    const el = await fixture<SmartSegmentBadge>(html`<smart-segment-badge contact-id="42"></smart-segment-badge>`);
    await waitUntil(() => el.state === 'none');
    published = true;
    await el.refresh();
    await el.updateComplete;
    expect(button(el).textContent!.trim()).to.equal('Risky');
  });
});
