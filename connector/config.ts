/**
 * The connector's configuration: read once from the environment (and command-line flags, which win),
 * validated here so a typo fails at start with the variable's name instead of deep inside a sync.
 * Secrets (the access token) are kept in the config but never printed: use `redact()` for logs.
 */
import { DEFAULT_FEATURE_CONFIG } from '../src/features.js';
import type { FeatureConfig, LatLon } from '../src/types.js';
import { DEFAULT_CONCURRENCY } from './hubspot/limiter.js';

export class ConfigError extends Error {
  /** The environment variable or flag at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

export interface RateLimitConfig {
  /** Standard requests per rolling 10 s window, per portal (HubSpot: 110 marketplace app, 100/190 private apps). */
  perTenSeconds: number;
  /** Search requests per second, per portal (HubSpot: 5). */
  searchPerSecond: number;
}

export interface AppConfig {
  baseUrl: string;
  /** Bearer token (private app token or OAuth access token); undefined when not configured. */
  token: string | undefined;
  dataDir: string;
  port: number;
  warehouse: LatLon;
  satisfactionProperty: string | undefined;
  distanceProperty: string | undefined;
  wonStages: string[];
  windowMonths: number;
  /** ISO date (YYYY-MM-DD) the feature window ends at. */
  asOf: string;
  rateLimit: RateLimitConfig;
  /** Requests in flight per portal. */
  concurrency: number;
  /** DATABASE_URL: the PostgreSQL server for the store; undefined keeps the embedded database in dataDir. */
  databaseUrl?: string;
}

export type Env = Record<string, string | undefined>;
export type Flags = Record<string, string | boolean | undefined>;

export const DEFAULTS = {
  baseUrl: 'https://api.hubapi.com',
  dataDir: '.data',
  port: 3000,
  // The paper's warehouse-store is in Kyiv.
  warehouse: { lat: 50.4501, lon: 30.5234 },
  wonStages: ['closedwon'],
  windowMonths: 12,
  rateLimit: { perTenSeconds: 110, searchPerSecond: 5 },
  concurrency: DEFAULT_CONCURRENCY,
} as const;

function text(env: Env, flags: Flags, variable: string, flag: string | undefined): string | undefined {
  const f = flag === undefined ? undefined : flags[flag];
  if (typeof f === 'string') return f.trim() === '' ? undefined : f.trim();
  if (f === true) throw new ConfigError(`--${flag}`, 'needs a value');
  const v = env[variable];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function integer(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `"${raw}" is not a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `${n} is outside ${min}..${max}`);
  return n;
}

function parseUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `"${raw}" must be an http(s) URL`);
  }
  // A trailing slash would double up with the API paths.
  return url.toString().replace(/\/+$/, '');
}

/** DATABASE_URL: postgres://user:password@host[:port]/database. Messages never repeat the password. */
function parseDatabaseUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a URL (expected postgres://user:password@host:5432/database)');
  }
  if (url.password !== '') url.password = '***';
  const shown = url.toString();
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(name, `"${shown}" must be a postgres:// URL`);
  }
  if (url.hostname === '') throw new ConfigError(name, `"${shown}" names no host`);
  if (url.pathname.replace(/^\/+/, '') === '') throw new ConfigError(name, `"${shown}" names no database (postgres://user:password@host:5432/database)`);
  return raw;
}

function parseLatLon(name: string, raw: string): LatLon {
  const parts = raw.split(',').map((s) => s.trim());
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '' || !Number.isFinite(lat) || !Number.isFinite(lon)) {
    throw new ConfigError(name, `"${raw}" is not "lat,lon"`);
  }
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) throw new ConfigError(name, `"${raw}" is out of range`);
  return { lat, lon };
}

function parseDate(name: string, raw: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  const d = m ? new Date(`${raw}T00:00:00Z`) : null;
  if (!m || !d || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) {
    throw new ConfigError(name, `"${raw}" is not a date (YYYY-MM-DD)`);
  }
  return raw;
}

function propertyName(name: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[a-z0-9_]+$/i.test(raw)) throw new ConfigError(name, `"${raw}" is not a HubSpot property name`);
  return raw;
}

/**
 * Builds the configuration. `today` is read here (the core has no clock), injectable for tests.
 * Flags: --base-url, --data-dir, --port, --as-of override the matching variables.
 */
export function loadConfig(env: Env, flags: Flags = {}, today: () => Date = () => new Date()): AppConfig {
  const baseRaw = text(env, flags, 'HUBSPOT_API_BASE', 'base-url');
  const baseName = typeof flags['base-url'] === 'string' ? '--base-url' : 'HUBSPOT_API_BASE';
  const wonRaw = text(env, flags, 'SMART_SEGMENTS_WON_STAGES', undefined);
  const wonStages = wonRaw === undefined ? [...DEFAULTS.wonStages] : wonRaw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (wonStages.length === 0) throw new ConfigError('SMART_SEGMENTS_WON_STAGES', 'lists no deal stage');
  const warehouseRaw = text(env, flags, 'SMART_SEGMENTS_WAREHOUSE', undefined);
  const asOfRaw = text(env, flags, 'SMART_SEGMENTS_AS_OF', 'as-of');
  const databaseRaw = text(env, {}, 'DATABASE_URL', undefined);
  const config: AppConfig = {
    baseUrl: baseRaw === undefined ? DEFAULTS.baseUrl : parseUrl(baseName, baseRaw),
    token: text(env, {}, 'HUBSPOT_ACCESS_TOKEN', undefined),
    dataDir: text(env, flags, 'SMART_SEGMENTS_DATA_DIR', 'data-dir') ?? DEFAULTS.dataDir,
    port: integer('PORT', text(env, flags, 'PORT', 'port'), DEFAULTS.port, 0, 65535),
    warehouse: warehouseRaw === undefined ? { ...DEFAULTS.warehouse } : parseLatLon('SMART_SEGMENTS_WAREHOUSE', warehouseRaw),
    satisfactionProperty: propertyName('SMART_SEGMENTS_SATISFACTION_PROPERTY', text(env, flags, 'SMART_SEGMENTS_SATISFACTION_PROPERTY', undefined)),
    distanceProperty: propertyName('SMART_SEGMENTS_DISTANCE_PROPERTY', text(env, flags, 'SMART_SEGMENTS_DISTANCE_PROPERTY', undefined)),
    wonStages,
    windowMonths: integer('SMART_SEGMENTS_WINDOW_MONTHS', text(env, flags, 'SMART_SEGMENTS_WINDOW_MONTHS', undefined), DEFAULTS.windowMonths, 1, 240),
    asOf: asOfRaw === undefined ? today().toISOString().slice(0, 10) : parseDate(typeof flags['as-of'] === 'string' ? '--as-of' : 'SMART_SEGMENTS_AS_OF', asOfRaw),
    rateLimit: {
      perTenSeconds: integer('HUBSPOT_RATE_LIMIT', text(env, flags, 'HUBSPOT_RATE_LIMIT', undefined), DEFAULTS.rateLimit.perTenSeconds, 1, 10_000),
      searchPerSecond: integer('HUBSPOT_SEARCH_RATE', text(env, flags, 'HUBSPOT_SEARCH_RATE', undefined), DEFAULTS.rateLimit.searchPerSecond, 1, 1000),
    },
    concurrency: integer('HUBSPOT_CONCURRENCY', text(env, flags, 'HUBSPOT_CONCURRENCY', undefined), DEFAULTS.concurrency, 1, 64),
  };
  if (databaseRaw !== undefined) config.databaseUrl = parseDatabaseUrl('DATABASE_URL', databaseRaw);
  return config;
}

/** The feature configuration for this deployment: src/features.ts defaults plus the variables above. */
export function featureConfigOf(config: AppConfig): FeatureConfig {
  const fc: FeatureConfig = {
    ...DEFAULT_FEATURE_CONFIG,
    asOf: config.asOf,
    windowMonths: config.windowMonths,
    wonStages: [...config.wonStages],
    warehouse: { ...config.warehouse },
  };
  if (config.satisfactionProperty !== undefined) fc.satisfactionProperty = config.satisfactionProperty;
  if (config.distanceProperty !== undefined) fc.distanceProperty = config.distanceProperty;
  return fc;
}

/** Masks a secret for logs: keeps only a short prefix so two tokens can be told apart. */
export function redact(secret: string | undefined): string {
  if (secret === undefined || secret === '') return '(none)';
  if (secret.length <= 8) return '***';
  return `${secret.slice(0, 4)}…(${secret.length} chars)`;
}

/** A database URL with its password masked. */
function redactDatabaseUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '***';
  }
}

/** A copy of the config that is safe to print. */
export function describeConfig(config: AppConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config, token: redact(config.token) };
  if (config.databaseUrl !== undefined) out.databaseUrl = redactDatabaseUrl(config.databaseUrl);
  return out;
}
