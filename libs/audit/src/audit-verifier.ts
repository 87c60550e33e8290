import { BulkheadConfig } from '@bulkhead/config';
import { TenantAdmin, TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { parsePgUrl, quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import type { Client } from 'pg';
import { PLATFORM_TRAIL_ID } from './audit-trail';
import { ChainReport, TrustedHead, verifyChain } from './chain-verifier';

const PAGE = 500;

/**
 * `bulkhead audit verify`: every tenant's chain where it lives (pool, its schema, its silo) and
 * the platform's own chain, checked as the admin role, against the newest signed checkpoints.
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
    const mainUrl = withDatabase(this.config.DATABASE_ADMIN_URL, parsePgUrl(this.config.DATABASE_URL).database);
    const reports: ChainReport[] = [];
    await withConnections(mainUrl, async (main) => {
      if (!options.tenant) reports.push(await verifyChain(main, 'public.audit_entries', PLATFORM_TRAIL_ID, 'platform', trusted.get(PLATFORM_TRAIL_ID)));
      for (const tenant of targets) {
        if (tenant.status === 'deleted' || tenant.status === 'provisioning') continue;
        reports.push(await this.verifyTenant(main, tenant, trusted.get(tenant.id)));
      }
    });
    return reports;
  }

  private async verifyTenant(main: Client[], tenant: TenantRecord, trusted: TrustedHead | undefined): Promise<ChainReport> {
    try {
      if (tenant.isolation === 'silo' && tenant.databaseName) {
        return await withConnections(withDatabase(this.config.DATABASE_ADMIN_URL, tenant.databaseName), (clients) =>
          verifyChain(clients, 'public.audit_entries', tenant.id, `silo ${tenant.databaseName}`, trusted),
        );
      }
      if (tenant.isolation === 'schema' && tenant.schemaName) {
        return await verifyChain(main, `${quoteIdent(tenant.schemaName)}.audit_entries`, tenant.id, `schema ${tenant.schemaName}`, trusted);
      }
      return await verifyChain(main, 'public.audit_entries', tenant.id, 'pool', trusted);
    } catch (error) {
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

function withConnections<T>(url: string, work: (clients: Client[]) => Promise<T>, clients: Client[] = []): Promise<T> {
  if (clients.length === VERIFY_CONNECTIONS) return work(clients);
  return withPg(url, 'bulkhead-audit-verify', (client) => withConnections(url, work, [...clients, client]));
}
