import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createElement } from 'react';
import { Button, DescriptionListItem, EmptyState, Tag, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { appBaseUrl, SEGMENT_PROPERTIES, segmentLabel, segmentVariant, SmartSegmentCard } from '../../hubspot/src/app/cards/SmartSegmentCard.js';

type Props = Record<string, string | null>;

function renderCard(properties: Props, fetchImpl?: (url: string) => Promise<Response>) {
  const r = createRenderer('crm.record.sidebar');
  r.mocks.useCrmProperties.willCall(() => ({ properties, error: null, isLoading: false, isRefetching: false, refetch: () => Promise.resolve() }));
  // hubspot.fetch goes through the worker global `self.hsFetch`.
  (globalThis as { self?: unknown }).self = { hsFetch: fetchImpl ?? (() => Promise.reject(new Error('no fetch in this test'))) };
  r.mocks.context.portal.id = 48000042;
  r.mocks.context.crm.objectId = 901;
  r.render(createElement(SmartSegmentCard, { context: r.mocks.context, openIframeModal: r.mocks.actions.openIframeModal }));
  return r;
}

describe('Smart Segment card', () => {
  test('shows the written-back segment as a tag with its strategy', () => {
    const r = renderCard({ smart_segment: 'loyal', smart_segment_strategy: 'P1: RFID, IoT', smart_segment_model: '2026-11-01T00:00:00.000Z' });
    assert.deepEqual(r.mocks.useCrmProperties.calls[0]?.[0], SEGMENT_PROPERTIES);
    const tag = r.find(Tag);
    assert.equal(tag.text, 'Loyal');
    assert.equal(tag.props.variant, 'success');
    const items = r.findAll(DescriptionListItem).map((i) => i.props.label);
    assert.deepEqual(items, ['Segment', 'Strategy', 'Model']);
    assert.ok(r.findAll(Text).some((t) => t.text === 'P1: RFID, IoT'));
  });

  test('shows an empty state when no model has been published', () => {
    const r = renderCard({ smart_segment: null, smart_segment_strategy: null, smart_segment_model: null });
    assert.equal(r.find(EmptyState).props.title, 'No segment yet');
    assert.equal(r.maybeFind(Tag), null);
  });

  test('opens the explorer in an iframe modal with a token fetched from our backend', async () => {
    const urls: string[] = [];
    const r = renderCard({ smart_segment: 'risky', smart_segment_strategy: null, smart_segment_model: null }, (url) => {
      urls.push(url);
      return Promise.resolve(new Response(JSON.stringify({ token: 'it1.abc.def', expiresAt: 'x' }), { status: 200 }));
    });
    assert.equal(r.find(Tag).props.variant, 'error');
    r.find(Button).trigger('onClick');
    await r.waitFor(() => assert.equal(r.mocks.actions.openIframeModal.calls.length, 1));
    assert.deepEqual(urls, ['https://smart-segments.example.com/api/iframe-token']);
    const [payload] = r.mocks.actions.openIframeModal.calls[0]!;
    assert.equal(payload.uri, 'https://smart-segments.example.com/explorer?portalId=48000042&contactId=901&token=it1.abc.def');
    assert.equal(payload.title, 'Smart Segments explorer');
  });

  test('says so when the backend refuses the token request', async () => {
    const r = renderCard({ smart_segment: 'loyal', smart_segment_strategy: null, smart_segment_model: null },
      () => Promise.resolve(new Response('{}', { status: 401 })));
    r.find(Button).trigger('onClick');
    await r.waitFor(() => assert.ok(r.findAll(Text).some((t) => (t.text ?? '').includes('answered 401'))));
    assert.equal(r.mocks.actions.openIframeModal.calls.length, 0);
  });
});

describe('card helpers', () => {
  test('segment ids map to HubSpot tag variants and readable labels', () => {
    assert.equal(segmentVariant('profitable_2'), 'info');
    assert.equal(segmentVariant('no_recent_orders'), 'warning');
    assert.equal(segmentVariant('segment_7'), 'default');
    assert.equal(segmentLabel('profitable_2'), 'Profitable 2');
    assert.equal(segmentLabel('no_recent_orders'), 'No recent orders');
  });

  test('the backend origin comes from the APP_BASE_URL profile variable when set', () => {
    assert.equal(appBaseUrl({ variables: { APP_BASE_URL: 'https://staging.example.com/' } }), 'https://staging.example.com');
    assert.equal(appBaseUrl({}), 'https://smart-segments.example.com');
  });
});
