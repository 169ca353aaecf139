import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decrypt, DecryptionError, encrypt, EncryptionKeyError, encryptionKeyFromEnv, parseEncryptionKey } from '../../connector/crypto.js';

const HEX = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';
const key = Buffer.from(HEX, 'hex');

describe('token encryption (AES-256-GCM)', () => {
  test('a sealed value opens to the same text with the same key and context', () => {
    const sealed = encrypt(key, 'sbx-at-secret-token', 'portal:1:access');
    assert.equal(decrypt(key, sealed, 'portal:1:access'), 'sbx-at-secret-token');
  });

  test('the ciphertext is versioned, never contains the plaintext, and differs each time (random IV)', () => {
    const a = encrypt(key, 'same text');
    const b = encrypt(key, 'same text');
    assert.match(a, /^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]+$/);
    assert.notEqual(a, b);
    assert.ok(!a.includes('same text'));
    // 12-byte IV -> 16 base64url chars; 9 plaintext bytes -> 9 ciphertext bytes -> 12 chars.
    assert.equal(a.split('.')[3]!.length, 12);
  });

  test('any altered byte of IV, tag or body is detected', () => {
    const sealed = encrypt(key, 'refresh-token-value', 'ctx');
    const parts = sealed.split('.');
    for (const i of [1, 2, 3]) {
      const p = [...parts];
      const s = p[i]!;
      p[i] = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
      assert.throws(() => decrypt(key, p.join('.'), 'ctx'), DecryptionError);
    }
  });

  test('a value sealed for one portal does not open as another portal\'s token', () => {
    const sealed = encrypt(key, 'tok', 'portal:1:access');
    assert.throws(() => decrypt(key, sealed, 'portal:2:access'), /failed authentication/);
  });

  test('another key cannot open the value', () => {
    const other = Buffer.alloc(32, 7);
    assert.throws(() => decrypt(other, encrypt(key, 'tok')), DecryptionError);
  });

  test('unknown versions and malformed values are refused with a clear message', () => {
    assert.throws(() => decrypt(key, 'v9.a.b.c'), /unknown ciphertext version "v9"/);
    assert.throws(() => decrypt(key, 'v1.abc'), /expected 4 dot-separated parts, got 2/);
    assert.throws(() => decrypt(key, 'plaintext-token'), /unknown ciphertext version/);
  });
});

describe('TOKEN_ENCRYPTION_KEY parsing', () => {
  test('accepts 64 hex digits, base64 and base64url for the same 32 bytes', () => {
    const b64 = key.toString('base64');
    const b64url = key.toString('base64url');
    assert.deepEqual(parseEncryptionKey(HEX), key);
    assert.deepEqual(parseEncryptionKey(b64), key);
    assert.deepEqual(parseEncryptionKey(b64url), key);
    assert.deepEqual(encryptionKeyFromEnv({ TOKEN_ENCRYPTION_KEY: ` ${b64}\n` }), key);
  });

  test('a missing key names the variable', () => {
    assert.throws(() => encryptionKeyFromEnv({}), (e: unknown) => e instanceof EncryptionKeyError && /TOKEN_ENCRYPTION_KEY is not set/.test(e.message));
  });

  test('a malformed key names the variable but never echoes the value', () => {
    for (const bad of ['short', HEX.slice(2), Buffer.alloc(16).toString('base64'), 'z'.repeat(64)]) {
      assert.throws(() => encryptionKeyFromEnv({ TOKEN_ENCRYPTION_KEY: bad }), (e: unknown) =>
        e instanceof EncryptionKeyError && e.message.startsWith('TOKEN_ENCRYPTION_KEY must be 32 bytes') && !e.message.includes(bad));
    }
  });
});
