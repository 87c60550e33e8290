import type { FastifyReply } from 'fastify';

/**
 * The console's response headers. The Content-Security-Policy allows scripts and styles from the
 * API's own origin only (no inline script, no eval), API calls to it and to the identity
 * provider (discovery and the token exchange), and nothing else: tenant-supplied text that slipped
 * into the page as markup could still not run. No referrer leaves the page (an authorization code
 * is in its URL on the way back from the provider) and no other site may frame it.
 */
export function consoleHeaders(reply: FastifyReply, identityProviderOrigin: string | undefined): FastifyReply {
  const connect = ["'self'", identityProviderOrigin].filter(Boolean).join(' ');
  return reply
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src ${connect}; ` +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cache-control', 'no-store');
}
