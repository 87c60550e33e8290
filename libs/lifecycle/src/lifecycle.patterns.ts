/** The registry's slug pattern (as in the control plane's CreateTenantDto): usable as a subdomain label. */
export const TENANT_SLUG_PATTERN_SOURCE = '^[a-z](?:[a-z0-9]|-(?!-)){1,38}[a-z0-9]$';
