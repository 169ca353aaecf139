import { expect } from '@open-wc/testing';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';
import { describe, it } from './explorer.fixtures.js';

/** The same fit as test/core/cross-env.test.ts, whose JSON is committed in test/fixtures. */
const FIXTURE_URL = '/test/fixtures/paper-300-seed7.model.json';

describe('the analytics core in Chromium', () => {
  it('fits 300 paper customers with seed 7 to the same model JSON that Node produces', async () => {
    const expected = await (await fetch(FIXTURE_URL)).text();
    const { model } = fit(paperTable({ n: 300, seed: 7 }).table, { k: 3, method: 'kmeans', seed: 7 });
    expect(`${JSON.stringify(model, null, 2)}\n`).to.equal(expected);
  });

  it('names the three paper segments with the paper priorities', () => {
    const { model } = fit(paperTable({ n: 300, seed: 7 }).table, { k: 3, method: 'kmeans', seed: 7 });
    const priorities = Object.fromEntries(model.segments.map((s) => [s.id, s.strategy.priority]));
    expect(priorities).to.deep.equal({ loyal: 1, profitable: 2, risky: 3 });
  });

  it('gives identical JSON for two runs with the same seed', () => {
    const { table } = paperTable({ n: 500, seed: 3 });
    const a = fit(table, { k: 'auto', method: 'kmeans', seed: 11 });
    const b = fit(table, { k: 'auto', method: 'kmeans', seed: 11 });
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
  });
});
