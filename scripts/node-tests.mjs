#!/usr/bin/env node
// Runs the Node test files compiled to dist/ (Node 20's `node --test` does not expand globs itself).
// Usage: node scripts/node-tests.mjs [dir ...]   (default: dist/test/core dist/test/connector dist/test/hubspot)
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dirs = process.argv.slice(2).length > 0
  ? process.argv.slice(2)
  : ['dist/test/core', 'dist/test/connector', 'dist/test/hubspot'];

function collect(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = dirs.flatMap((dir) => collect(dir, []));
if (files.length === 0) {
  console.error(`No compiled tests under ${dirs.join(', ')}: run \`npm run build\` first.`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
