/** Regenerates test/fixtures/paper-300-seed7.model.json: `npx tsx test/core/cross-env.gen.ts`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_PATH, crossEnvFit, fixtureText, repoRoot } from './cross-env.fixture.js';

const path = join(repoRoot(), FIXTURE_PATH);
writeFileSync(path, fixtureText(crossEnvFit()));
console.log(`wrote ${path}`);
