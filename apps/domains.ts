import { BulkheadDomain } from '@bulkhead/domain-kit';
import { PROJECTS_DOMAIN } from '@bulkhead/projects';
import { SALES_DOMAIN } from '@bulkhead/sales';

/**
 * The domains this deployment runs: one line each. The API serves their controllers, the worker
 * runs their job handlers, and `setup`, `migrate` and provisioning apply their tenant migrations
 * to the pool, every schema and every silo.
 */
export const DOMAINS: readonly BulkheadDomain[] = [SALES_DOMAIN, PROJECTS_DOMAIN];
