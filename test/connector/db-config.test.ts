import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeConfig, loadConfig } from '../../connector/config.js';

const today = (): Date => new Date('2026-11-23T18:00:00Z');

/** The ConfigError loadConfig throws for this environment. */
function errorFor(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, {}, today);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('loadConfig accepted it');
}

describe('DATABASE_URL', () => {
  test('is optional: unset (or blank) keeps the embedded database', () => {
    assert.equal(loadConfig({}, {}, today).databaseUrl, undefined);
    assert.equal(loadConfig({ DATABASE_URL: '  ' }, {}, today).databaseUrl, undefined);
    assert.ok(!('databaseUrl' in loadConfig({}, {}, today)));
  });

  test('accepts postgres:// and postgresql:// URLs as given', () => {
    const url = 'postgres://smart_segments:pa%40ss@127.0.0.1:5432/smart_segments?sslmode=disable';
    assert.equal(loadConfig({ DATABASE_URL: url }, {}, today).databaseUrl, url);
    assert.equal(loadConfig({ DATABASE_URL: 'postgresql://db.example/prod' }, {}, today).databaseUrl, 'postgresql://db.example/prod');
  });

  test('refuses malformed values with a message naming the variable and never the password', () => {
    const cases: [string, RegExp][] = [
      ['mysql://app:hunter2@db.example/prod', /must be a postgres:\/\/ URL/],
      ['postgres://app:hunter2@db.example', /names no database/],
      ['postgres://app:hunter2@db.example/', /names no database/],
      ['not a url hunter2', /is not a URL/],
    ];
    for (const [raw, message] of cases) {
      const error = errorFor({ DATABASE_URL: raw });
      assert.equal(error.variable, 'DATABASE_URL');
      assert.match(error.message, /^DATABASE_URL: /);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('hunter2'), `${error.message} leaks the password`);
    }
  });

  test('describeConfig masks the password', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://app:hunter2@db.example:5432/prod' }, {}, today);
    assert.equal(describeConfig(config).databaseUrl, 'postgres://app:***@db.example:5432/prod');
  });
});
