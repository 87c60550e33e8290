import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { AuditEntryRow } from './audit-entry.entity';
import { AuditKeyRow } from './audit-key.entity';
import { AuditLinkRow } from './audit-link.entity';
import { ChainHeadRow } from './chain-head.entity';
import { AuditModule } from './audit.module';

/** Registered in `apps/domains.ts`; its tables are migrated before every domain's. */
export const AUDIT_FEATURE = definePlatformFeature({
  name: 'audit',
  module: AuditModule,
  entities: [AuditEntryRow, AuditLinkRow, AuditKeyRow, ChainHeadRow],
  migrations: join(__dirname, '..', 'migrations'),
  // The chaining trigger locks the tenant's chain head, another table: on Citus a shard cannot
  // query another distributed table, so the trail stays on the coordinator (still under RLS).
  citusTables: 'coordinator',
});
