import { BulkheadConfig } from '@bulkhead/config';
import { TenantRepository } from '@bulkhead/control-plane';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { DoctorReport, runDoctor } from './rls-doctor';

/**
 * The doctor over the whole fleet: the cluster's database (pool and every tenant schema), then
 * every silo database, each checked as the admin role (RLS is forced, so the owner would count
 * zero rows). A silo's findings are prefixed with its tenant; a silo that cannot be reached is a
 * violation, never a silent pass.
 */
@Injectable()
export class FleetDoctor {
  constructor(
    private readonly config: BulkheadConfig,
    private readonly tenants: TenantRepository,
  ) {}

  async run(): Promise<DoctorReport> {
    const runtimeRole = parsePgUrl(this.config.DATABASE_URL).user;
    const mainUrl = withDatabase(this.config.DATABASE_ADMIN_URL, parsePgUrl(this.config.DATABASE_URL).database);
    const report = await withPg(mainUrl, 'bulkhead-doctor', (client) => runDoctor(client, runtimeRole));
    for (const silo of await this.tenants.listLiveSilos()) {
      const label = `${silo.slug} (${silo.databaseName})`;
      try {
        const siloReport = await withPg(withDatabase(this.config.DATABASE_ADMIN_URL, silo.databaseName), 'bulkhead-doctor', (client) =>
          runDoctor(client, runtimeRole),
        );
        report.violations.push(...siloReport.violations.map((v) => `${label}: ${v}`));
        report.tables.push(...siloReport.tables.map((t) => ({ ...t, table: `${silo.databaseName}.${t.table}` })));
        report.rowsPerTenant.push(...siloReport.rowsPerTenant.map((r) => ({ ...r, table: `${silo.databaseName}.${r.table}` })));
      } catch (error) {
        report.violations.push(`${label}: cannot be checked: ${(error as Error).message}`);
      }
    }
    return report;
  }
}
