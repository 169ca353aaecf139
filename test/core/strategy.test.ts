import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCHETYPES, recommend, STRATEGIES, TECHNOLOGIES, TECHNOLOGY_KEYS, UNIVERSAL_TECHNOLOGIES } from '../../src/strategy.js';
import type { Archetype } from '../../src/types.js';

describe('strategy catalogue', () => {
  test("gives each archetype the technologies of the paper's Table 3", () => {
    assert.deepEqual(STRATEGIES.loyal.technologies, ['iot', 'big_data', 'automation_robotics', 'it_cloud']);
    assert.deepEqual(STRATEGIES.profitable.technologies, ['iot', 'big_data', 'ai', 'ml_cognitive', 'ar_vr_digital_twin', 'it_cloud']);
    assert.deepEqual(STRATEGIES.risky.technologies, ['iot', 'big_data', 'it_cloud', 'blockchain']);
  });

  test('ranks loyal first, profitable second and risky last, as the conclusions do', () => {
    assert.deepEqual(
      ARCHETYPES.map((a) => [a, STRATEGIES[a].priority]),
      [['loyal', 1], ['profitable', 2], ['risky', 3]],
    );
  });

  test('applies IoT, big data and IT systems/cloud to every archetype', () => {
    assert.deepEqual([...UNIVERSAL_TECHNOLOGIES], ['iot', 'big_data', 'it_cloud']);
    for (const a of ARCHETYPES) for (const t of UNIVERSAL_TECHNOLOGIES) assert.ok(STRATEGIES[a].technologies.includes(t), `${a} lacks ${t}`);
  });

  test('describes every technology with a name, one sentence and the KPIs it moves', () => {
    assert.equal(TECHNOLOGY_KEYS.length, 8);
    for (const key of TECHNOLOGY_KEYS) {
      const t = TECHNOLOGIES[key];
      assert.equal(t.key, key);
      assert.ok(t.name.length > 0);
      assert.match(t.explanation, /^[A-Z][^.]*\.$/, `${key}: one sentence`);
      assert.ok(t.kpis.length >= 3, `${key} lists KPIs`);
    }
    assert.ok(TECHNOLOGIES.iot.kpis.includes('Customer retention'));
    assert.ok(TECHNOLOGIES.ar_vr_digital_twin.kpis.includes('Conversion rate'));
  });

  test('gives every archetype a summary and concrete actions', () => {
    for (const a of ARCHETYPES) {
      assert.equal(STRATEGIES[a].archetype, a);
      assert.ok(STRATEGIES[a].summary.length > 0);
      assert.ok(STRATEGIES[a].actions.length >= 2);
    }
    assert.match(STRATEGIES.risky.actions.join(' '), /pick-up points/);
  });
});

describe('recommend', () => {
  test("returns the archetype's priority, technologies and summary as a recommendation", () => {
    assert.deepEqual(recommend('risky'), {
      basis: 'risky',
      priority: 3,
      technologies: ['iot', 'big_data', 'it_cloud', 'blockchain'],
      summary: STRATEGIES.risky.summary,
    });
  });

  test('returns a copy, so callers cannot change the catalogue', () => {
    const r = recommend('loyal');
    r.technologies.push('blockchain');
    assert.deepEqual(STRATEGIES.loyal.technologies, ['iot', 'big_data', 'automation_robotics', 'it_cloud']);
  });

  test('rejects an unknown archetype', () => {
    assert.throws(() => recommend('vip' as Archetype), /unknown archetype "vip"/);
  });
});
