import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_PATH, crossEnvFit, fixtureText, repoRoot } from './cross-env.fixture.js';

describe('cross-environment model fixture', () => {
  const expected = readFileSync(join(repoRoot(), FIXTURE_PATH), 'utf8');

  test('fitting 300 paper customers with seed 7 in Node gives the committed model JSON byte for byte', () => {
    assert.equal(fixtureText(crossEnvFit()), expected);
  });

  test('the committed model names the paper three segments with their sizes adding up to 300', () => {
    const model = JSON.parse(expected) as { segments: { id: string; size: number }[]; data: { clustered: number } };
    assert.deepEqual(model.segments.map((s) => s.id).sort(), ['loyal', 'profitable', 'risky']);
    assert.equal(
      model.segments.reduce((sum, s) => sum + s.size, 0),
      model.data.clustered,
    );
    assert.equal(model.data.clustered, 300);
  });
});
