import { AUDIT_FEATURE } from '@bulkhead/audit';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { IDEMPOTENCY_FEATURE } from '@bulkhead/idempotency';
import { LIFECYCLE_FEATURE } from '@bulkhead/lifecycle';
import { METERING_FEATURE } from '@bulkhead/metering';
import { PROJECTS_DOMAIN } from '@bulkhead/projects';
import { SALES_DOMAIN } from '@bulkhead/sales';

/**
 * The domains this deployment runs: one line each. The API serves their controllers, the worker
 * runs their job handlers, and `setup`, `migrate` and provisioning apply their tenant migrations
 * to the pool, every schema and every silo. Platform features with tenant tables of their own
 * (`IDEMPOTENCY_FEATURE`, `METERING_FEATURE`, `AUDIT_FEATURE`) are listed here too; their migrations apply before any domain's.
 * `LIFECYCLE_FEATURE` (onboarding, offboarding) has control-plane tables only.
 */
export const DOMAINS: readonly BulkheadDomain[] = [IDEMPOTENCY_FEATURE, METERING_FEATURE, AUDIT_FEATURE, LIFECYCLE_FEATURE, SALES_DOMAIN, PROJECTS_DOMAIN];
