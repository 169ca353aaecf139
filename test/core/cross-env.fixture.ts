/**
 * The cross-environment fixture: one seeded fit whose model JSON must be byte-identical in Node (here),
 * in Chromium (test/widget/core-in-browser.test.ts) and in the explorer's Web Worker. Regenerate the
 * committed file with `npx tsx test/core/cross-env.gen.ts` only when the core's output changes on purpose.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';
import type { FitResult } from '../../src/types.js';

export const FIXTURE_PATH = 'test/fixtures/paper-300-seed7.model.json';

/** fit(paperTable({ n: 300, seed: 7 }).table, { k: 3, method: 'kmeans', seed: 7 }) */
export function crossEnvFit(): FitResult {
  const { table } = paperTable({ n: 300, seed: 7 });
  return fit(table, { k: 3, method: 'kmeans', seed: 7 });
}

/** The fixture file's text for a model: 2-space JSON plus a final newline. */
export function fixtureText(result: FitResult): string {
  return `${JSON.stringify(result.model, null, 2)}\n`;
}

/** The repository root (the nearest folder with package.json), from src or from dist alike. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cross-env: package.json not found above the test file');
    dir = up;
  }
  return dir;
}
