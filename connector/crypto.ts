/**
 * Encryption at rest for OAuth tokens: AES-256-GCM with a key from TOKEN_ENCRYPTION_KEY (32 bytes, base64
 * or hex), a fresh random 96-bit IV per value, and a versioned text format so the scheme can change
 * without guessing what an old row holds:
 *
 *   v1.<iv base64url>.<tag base64url>.<ciphertext base64url>
 *
 * Callers pass associated data (e.g. "portal:123:access") so a ciphertext copied onto another portal's row
 * fails authentication instead of decrypting.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_VARIABLE = 'TOKEN_ENCRYPTION_KEY';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The key is missing or not 32 bytes of base64 / hex. The message names the variable, never the value. */
export class EncryptionKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncryptionKeyError';
  }
}

/** A value that is not ours, was altered, or was sealed with another key or associated data. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

/**
 * Parses a 32-byte key written as 64 hex digits or base64 / base64url (44 characters with padding).
 * Anything else throws `EncryptionKeyError` naming `variable`.
 */
export function parseEncryptionKey(raw: string | undefined, variable = KEY_VARIABLE): Buffer {
  const text = (raw ?? '').trim();
  if (text === '') {
    throw new EncryptionKeyError(`${variable} is not set: generate one with \`openssl rand -base64 32\``);
  }
  let key: Buffer | null = null;
  if (/^[0-9a-fA-F]{64}$/.test(text)) key = Buffer.from(text, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(text)) key = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (key === null || key.length !== 32) {
    throw new EncryptionKeyError(
      `${variable} must be 32 bytes written as 64 hex digits or base64 (44 characters); got ${text.length} characters that are neither`,
    );
  }
  return key;
}

/** Reads and parses the key once from the environment. */
export function encryptionKeyFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): Buffer {
  return parseEncryptionKey(env[KEY_VARIABLE]);
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new EncryptionKeyError(`encryption key must be 32 bytes, got ${key.length}`);
}

/** Seals `plaintext` (UTF-8). `aad` binds the value to its context; pass the same to `decrypt`. */
export function encrypt(key: Buffer, plaintext: string, aad = ''): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, b64url(iv), b64url(cipher.getAuthTag()), b64url(body)].join('.');
}

/** Opens a value from `encrypt`; throws `DecryptionError` on an unknown version, bad shape or failed tag. */
export function decrypt(key: Buffer, sealed: string, aad = ''): string {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts[0] !== VERSION) {
    throw new DecryptionError(`unknown ciphertext version ${JSON.stringify((parts[0] ?? '').slice(0, 8))} (expected ${VERSION})`);
  }
  if (parts.length !== 4) throw new DecryptionError(`malformed ciphertext: expected 4 dot-separated parts, got ${parts.length}`);
  const iv = Buffer.from(parts[1]!, 'base64url');
  const tag = Buffer.from(parts[2]!, 'base64url');
  const body = Buffer.from(parts[3]!, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('malformed ciphertext: wrong IV or tag length');
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptionError('ciphertext failed authentication: altered, or sealed with another key or context');
  }
}
