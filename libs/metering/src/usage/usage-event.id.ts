import { createHash } from 'node:crypto';

/**
 * The row id of a tenant's event: a UUID (version 8, RFC 9562) from sha256 of the tenant id and
 * the event id. Within the tenant it is the permanent dedupe key; across tenants it is unique too,
 * so it serves as the billing provider's `identifier` without naming the tenant.
 */
export function usageEventRowId(tenantId: string, eventId: string): string {
  const hex = createHash('sha256').update(`${tenantId}\n${eventId}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
