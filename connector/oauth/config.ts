/**
 * The OAuth app's settings: client credentials, where HubSpot's authorize page and token API live, the
 * redirect URL registered in hubspot/src/app/app-hsmeta.json and the scopes it asks for.
 */

/** The scopes app-hsmeta.json declares: the minimum the product uses. */
export const REQUIRED_SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.contacts.write',
  'crm.objects.deals.read',
  'crm.schemas.contacts.write',
] as const;

export interface OAuthAppConfig {
  clientId: string;
  clientSecret: string;
  /** Exactly as registered in app-hsmeta.json `auth.redirectUrls`, e.g. https://app.example.com/oauth/callback. */
  redirectUri: string;
  /** Default REQUIRED_SCOPES. */
  scopes?: readonly string[];
  /** Where /oauth/authorize lives; default https://app.hubspot.com (the sandbox URL in tests and the demo). */
  authorizeBase?: string;
  /** Where /oauth/v3/token lives; default https://api.hubapi.com. */
  apiBase?: string;
}

export const DEFAULT_AUTHORIZE_BASE = 'https://app.hubspot.com';
export const DEFAULT_API_BASE = 'https://api.hubapi.com';

/** Reads HUBSPOT_CLIENT_ID / HUBSPOT_CLIENT_SECRET / APP_BASE_URL (and the optional bases) once. */
export function oauthConfigFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): OAuthAppConfig {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new Error(`${name} is not set (the OAuth app needs it)`);
    return v;
  };
  const base = need('APP_BASE_URL').replace(/\/+$/, '');
  return {
    clientId: need('HUBSPOT_CLIENT_ID'),
    clientSecret: need('HUBSPOT_CLIENT_SECRET'),
    redirectUri: `${base}/oauth/callback`,
    authorizeBase: env.HUBSPOT_AUTHORIZE_BASE?.trim() || DEFAULT_AUTHORIZE_BASE,
    apiBase: env.HUBSPOT_API_BASE?.trim() || DEFAULT_API_BASE,
  };
}
