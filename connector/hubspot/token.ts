/**
 * Where the client gets its bearer token. A private-app token is static; the OAuth provider (a later
 * issue) refreshes an access token when HubSpot answers 401.
 */
export interface TokenProvider {
  getToken(): Promise<string>;
  /** Called once after a 401: refresh the token and resolve true to retry, false to give up. */
  onUnauthorized?(): Promise<boolean>;
}

/** A fixed token (private app, or the sandbox). */
export function staticTokenProvider(token: string): TokenProvider {
  if (token.trim() === '') throw new Error('access token is empty');
  return { getToken: () => Promise.resolve(token) };
}
