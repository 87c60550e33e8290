import { Type } from '@nestjs/common';
import { EntitySchema, MixedList } from 'typeorm';

/**
 * Everything a domain contributes to the platform, declared once in its own lib and registered
 * with one line in the app's domain list. Its module brings its controllers and its job handlers
 * (providers decorated `@JobHandlerProvider()`); its entities join every tenant data source; its
 * tenant migrations (a folder of `NNNN_name.sql`, owned and numbered by the domain) are applied to
 * the pool, every schema and every silo.
 */
export interface BulkheadDomain {
  /** Owner name in the migration ledger: lower-case letters, digits and hyphens. */
  readonly name: string;
  readonly module: Type<unknown>;
  readonly entities: MixedList<Function | string | EntitySchema>;
  /** Absolute path of the domain's tenant migrations, or none. */
  readonly migrations?: string;
  /**
   * Platform features only: absolute path of migrations of the control-plane catalogue (tables
   * that are not tenant data, such as feature flags), applied once to the control database after
   * the control plane's own. Owned by `<name>` (or `<name>-control` when the feature also has
   * tenant migrations).
   */
  readonly controlMigrations?: string;
  /**
   * `platform`: a platform feature that owns tenant tables (e.g. idempotency keys), declared with
   * `definePlatformFeature`; its migrations apply before every domain's. Domains leave it out.
   */
  readonly layer?: 'platform' | 'domain';
}

const NAME = /^[a-z][a-z0-9-]{1,31}$/;
/** Names the platform's own migration owners use. */
const RESERVED = new Set(['control-plane', 'tenancy', 'platform']);

export function defineDomain(domain: BulkheadDomain): BulkheadDomain {
  if (!NAME.test(domain.name)) throw new Error(`Domain name "${domain.name}" must be 2-32 lower-case letters, digits or hyphens`);
  if (RESERVED.has(domain.name)) throw new Error(`Domain name "${domain.name}" is reserved by the platform`);
  return Object.freeze({ ...domain });
}

/** A platform feature with tenant tables of its own, registered in the same list as the domains. */
export function definePlatformFeature(feature: Omit<BulkheadDomain, 'layer'>): BulkheadDomain {
  return Object.freeze({ ...defineDomain(feature), layer: 'platform' as const });
}
