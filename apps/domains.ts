import { AUDIT_FEATURE } from '@bulkhead/audit';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { FLAGS_FEATURE } from '@bulkhead/flags';
import { IDEMPOTENCY_FEATURE } from '@bulkhead/idempotency';
import { LIFECYCLE_FEATURE } from '@bulkhead/lifecycle';
import { METERING_FEATURE } from '@bulkhead/metering';
import { NOISY_NEIGHBOURS_FEATURE } from '@bulkhead/noisy-neighbours';
import { PROJECTS_DOMAIN } from '@bulkhead/projects';
import { SALES_DOMAIN } from '@bulkhead/sales';

/**
 * The domains this deployment runs: one line each. The API serves their controllers, the worker
 * runs their job handlers, and `setup`, `migrate` and provisioning apply their tenant migrations
 * to the pool, every schema and every silo. Platform features with tenant tables of their own
 * (`IDEMPOTENCY_FEATURE`, `METERING_FEATURE`, `AUDIT_FEATURE`) are listed here too; their migrations apply before any domain's.
 * `LIFECYCLE_FEATURE` (onboarding, offboarding), `FLAGS_FEATURE` and `NOISY_NEIGHBOURS_FEATURE` have
 * control-plane tables only (`controlMigrations`).
 */
export const DOMAINS: readonly BulkheadDomain[] = [
  IDEMPOTENCY_FEATURE,
  METERING_FEATURE,
  AUDIT_FEATURE,
  LIFECYCLE_FEATURE,
  FLAGS_FEATURE,
  NOISY_NEIGHBOURS_FEATURE,
  SALES_DOMAIN,
  PROJECTS_DOMAIN,
];
