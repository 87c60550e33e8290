import { BulkheadConfig } from '@bulkhead/config';
import { TenantAdmin, TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import type { Client } from 'pg';
import { AuditChainTooLongProblem } from './audit.errors';
import { PLATFORM_TRAIL_ID } from './audit-trail';
import { ChainReport, TrustedHead, verifyChain } from './chain-verifier';

const PAGE = 500;

/**
 * `bulkhead audit verify`: every tenant's chain where it lives (the pool or its schema in its
 * cluster's database, or its silo, on whichever cluster holds it) and the platform's own chain,
 * against the newest signed checkpoints. It reads as the cluster's owner role with the tenant set
 * on its own short-lived connections (RLS is forced on the owner too), never through a role that
 * bypasses RLS.
 */
@Injectable()
export class AuditVerifier {
  constructor(
    private readonly config: BulkheadConfig,
    private readonly tenants: TenantRepository,
    private readonly admin: TenantAdmin,
  ) {}

  async verify(options: { tenant?: string; checkpoints?: Map<string, TrustedHead> } = {}): Promise<ChainReport[]> {
    const trusted = options.checkpoints ?? new Map<string, TrustedHead>();
    const targets: TenantRecord[] = options.tenant ? [await this.admin.find(options.tenant)] : await this.allTenants();
    const reports: ChainReport[] = [];
    if (!options.tenant) reports.push(await this.verifyPlatform(trusted.get(PLATFORM_TRAIL_ID)));
    for (const tenant of targets) {
      if (tenant.status === 'deleted' || tenant.status === 'provisioning') continue;
      reports.push(await this.verifyTenant(tenant, trusted.get(tenant.id)));
    }
    return reports;
  }

  /** The platform's own chain (operator actions, refusals before a tenant was known, query audits). */
  verifyPlatform(trusted: TrustedHead | undefined, options: { maxEntries?: number } = {}): Promise<ChainReport> {
    return withConnections(this.config.DATABASE_OWNER_URL, PLATFORM_TRAIL_ID, (clients) => verifyChain(clients, 'public.audit_entries', PLATFORM_TRAIL_ID, 'platform', trusted, options));
  }

  /**
   * One tenant's chain where it lives. A placement that cannot be read is reported as a chain that
   * cannot be checked (not ok), never thrown; a chain longer than `maxEntries` is refused
   * (`AuditChainTooLongProblem`) before any of it is read.
   */
  async verifyTenant(tenant: TenantRecord, trusted: TrustedHead | undefined, options: { maxEntries?: number } = {}): Promise<ChainReport> {
    try {
      const cluster = this.config.clusters.find((candidate) => candidate.key === tenant.cluster);
      if (!cluster) throw new Error(`cluster ${tenant.cluster} is not configured`);
      if (tenant.isolation === 'silo' && tenant.databaseName) {
        return await withConnections(withDatabase(cluster.ownerUrl, tenant.databaseName), tenant.id, (clients) =>
          verifyChain(clients, 'public.audit_entries', tenant.id, `silo ${tenant.databaseName}`, trusted, options),
        );
      }
      const table = tenant.isolation === 'schema' && tenant.schemaName ? `${quoteIdent(tenant.schemaName)}.audit_entries` : 'public.audit_entries';
      const where = tenant.isolation === 'schema' && tenant.schemaName ? `schema ${tenant.schemaName}` : 'pool';
      return await withConnections(cluster.ownerUrl, tenant.id, (clients) => verifyChain(clients, table, tenant.id, where, trusted, options));
    } catch (error) {
      if (error instanceof AuditChainTooLongProblem) throw error;
      return { tenantId: tenant.id, placement: tenant.isolation, entries: 0, lastSeq: '0', ok: false, firstBadSeq: null, problem: `cannot be checked: ${(error as Error).message}`, checkpoint: null };
    }
  }

  private async allTenants(): Promise<TenantRecord[]> {
    const all: TenantRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.tenants.list({ after, limit: PAGE });
      all.push(...page);
      if (page.length < PAGE) return all;
      after = page[page.length - 1].id;
    }
  }
}

/** Connections per database: a long chain's ranges are checked this many at a time. */
const VERIFY_CONNECTIONS = 4;

/**
 * Four connections to `url`, each in a read-only transaction that set `tenantId` transaction-
 * locally (as every tenant statement does): the connections are opened for this check alone and
 * the setting ends with the transaction, whatever happens to the connection after.
 */
function withConnections<T>(url: string, tenantId: string, work: (clients: Client[]) => Promise<T>, clients: Client[] = []): Promise<T> {
  if (clients.length === VERIFY_CONNECTIONS) return work(clients);
  return withPg(url, 'bulkhead-audit-verify', async (client) => {
    await client.query('BEGIN READ ONLY');
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenantId]);
    try {
      return await withConnections(url, tenantId, work, [...clients, client]);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
    }
  });
}
