/** Errors the HubSpot client raises. Each carries enough to tell the user what to do next. */

export type HubSpotErrorCode =
  /** A 4xx that retrying cannot fix (400 validation, 403 scope, 404, 409 conflict). */
  | 'HTTP'
  /** 401 after the token provider could not refresh the token. */
  | 'UNAUTHORIZED'
  /** 429 with policyName DAILY: the portal's daily quota is spent. */
  | 'DAILY_LIMIT'
  /** 5xx, network errors, timeouts or malformed bodies kept happening. */
  | 'RETRIES_EXHAUSTED';

export class HubSpotError extends Error {
  readonly code: HubSpotErrorCode;
  readonly status: number | undefined;
  /** HubSpot's `category` (e.g. VALIDATION_ERROR, CONFLICT, OBJECT_NOT_FOUND). */
  readonly category: string | undefined;
  readonly correlationId: string | undefined;
  /** The parsed error body, when it was JSON. */
  readonly body: unknown;
  constructor(
    code: HubSpotErrorCode,
    message: string,
    details: { status?: number; category?: string; correlationId?: string; body?: unknown; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'HubSpotError';
    this.code = code;
    this.status = details.status;
    this.category = details.category;
    this.correlationId = details.correlationId;
    this.body = details.body;
  }
}
