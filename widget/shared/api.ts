/**
 * Typed client for the Smart Segments server's JSON API (connector/server). Every non-2xx answer becomes an
 * `ApiError` carrying the server's own message and code; network failures become `ApiError` with status 0.
 */
import type { Assignment, Model, Segment, Snapshot, SnapshotDelta } from '../../src/types.js';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(message: string, status: number, code: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export interface ApiConfig {
  portalId: string;
  sandbox: boolean;
  features: string[];
  defaultFeatures: string[];
  warehouse?: { lat: number; lon: number };
  asOf?: string;
  hubspotBase?: string;
}

export type JobState = 'queued' | 'running' | 'done' | 'failed';
export interface Job {
  id?: string;
  state: JobState;
  done: number;
  total: number;
  updated: number;
  skipped: number;
  error?: string;
}

export interface ContactListItem {
  id: string;
  firstname?: string;
  lastname?: string;
  email?: string;
  city?: string;
  country?: string;
  segment?: string | null;
  [key: string]: unknown;
}
export interface ContactPage {
  total: number;
  offset: number;
  limit: number;
  contacts: ContactListItem[];
}

export interface Deal {
  id: string;
  dealname?: string | null;
  amount?: number | string | null;
  dealstage?: string | null;
  closedate?: string | null;
}

export interface ContactDetail {
  id: string;
  properties: Record<string, string | null | undefined>;
  features: Record<string, number | null>;
  deals: Deal[];
  segment: Segment | null;
  assignment: Assignment | null;
}

export interface ContactSegment {
  contactId: string;
  /** The segment object, or (from some servers) only its id. */
  segment: Segment | string | null;
  assignment: Assignment | null;
  model: { createdAt: string } | null;
}

export interface PublishResponse {
  jobId: string;
  model?: { createdAt: string; k: number };
}

export interface ContactQuery {
  segment?: string;
  q?: string;
  offset?: number;
  limit?: number;
}

export interface ApiClientOptions {
  /** Base URL of the server; default '' (same origin). */
  base?: string;
  /** Injected fetch (tests); default globalThis.fetch at call time. */
  fetch?: typeof fetch;
  /**
   * Sent as `Authorization: Bearer` (the marketplace server's short-lived iframe token). Default: the page's
   * own `?token=`, so every widget on a page HubSpot opened with a token uses it.
   */
  token?: string;
}

/** The marketplace server answers each authenticated call with a renewed token in this header. */
export const RENEWED_TOKEN_HEADER = 'x-smart-segments-token';

/** The `?token=` of the page this runs in, if any. */
function pageToken(): string | undefined {
  try {
    return new URLSearchParams(globalThis.location?.search ?? '').get('token') || undefined;
  } catch {
    return undefined;
  }
}

/** The page's token, renewed by the server as the page keeps working, shared by every client without its own. */
let sharedToken: string | undefined = pageToken();

export class ApiClient {
  readonly base: string;
  private readonly fetchImpl: typeof fetch | undefined;
  private ownToken: string | undefined;

  constructor(options: ApiClientOptions | string = {}) {
    const opts: ApiClientOptions = typeof options === 'string' ? { base: options } : options;
    this.base = (opts.base ?? '').replace(/\/+$/, '');
    this.fetchImpl = opts.fetch;
    this.ownToken = opts.token;
  }

  config(signal?: AbortSignal): Promise<ApiConfig> {
    return this.json<ApiConfig>('/api/config', { signal });
  }

  /** The full snapshot, or a delta when `since` is a known etag (the server may still answer a full snapshot). */
  snapshot(since?: string, signal?: AbortSignal): Promise<Snapshot | SnapshotDelta> {
    const query = since ? `?since=${encodeURIComponent(since)}` : '';
    return this.json<Snapshot | SnapshotDelta>(`/api/snapshot${query}`, { signal });
  }

  /** The published model, or null when none has been published yet (404). */
  async model(signal?: AbortSignal): Promise<Model | null> {
    try {
      return await this.json<Model>('/api/model', { signal });
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return null;
      throw error;
    }
  }

  publishModel(model: Model, signal?: AbortSignal): Promise<PublishResponse> {
    return this.json<PublishResponse>('/api/model', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(model),
      signal,
    });
  }

  job(id: string, signal?: AbortSignal): Promise<Job> {
    return this.json<Job>(`/api/jobs/${encodeURIComponent(id)}`, { signal });
  }

  contacts(query: ContactQuery = {}, signal?: AbortSignal): Promise<ContactPage> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== '') params.set(key, String(value));
    }
    const qs = params.toString();
    return this.json<ContactPage>(`/api/contacts${qs ? `?${qs}` : ''}`, { signal });
  }

  contact(id: string, signal?: AbortSignal): Promise<ContactDetail> {
    return this.json<ContactDetail>(`/api/contacts/${encodeURIComponent(id)}`, { signal });
  }

  contactSegment(id: string, signal?: AbortSignal): Promise<ContactSegment> {
    return this.json<ContactSegment>(`/api/contacts/${encodeURIComponent(id)}/segment`, { signal });
  }

  private async json<T>(path: string, init: RequestInit): Promise<T> {
    const doFetch = this.fetchImpl ?? globalThis.fetch.bind(globalThis);
    let response: Response;
    try {
      const token = this.ownToken ?? sharedToken;
      response = await doFetch(`${this.base}${path}`, { ...init, headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...init.headers } });
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw new ApiError(`Cannot reach the server (${error instanceof Error ? error.message : String(error)})`, 0, 'network');
    }
    const renewed = response.headers?.get(RENEWED_TOKEN_HEADER);
    if (renewed) {
      if (this.ownToken !== undefined) this.ownToken = renewed;
      else sharedToken = renewed;
    }
    const text = await response.text();
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        if (response.ok) throw new ApiError(`The server sent invalid JSON for ${path}`, response.status, 'bad_json');
      }
    }
    if (!response.ok) {
      const err = (body as { error?: { message?: unknown; code?: unknown } } | null)?.error;
      const message = typeof err?.message === 'string' ? err.message : `${response.status} ${response.statusText || 'error'} for ${path}`;
      const code = typeof err?.code === 'string' ? err.code : `http_${response.status}`;
      throw new ApiError(message, response.status, code);
    }
    return body as T;
  }
}
