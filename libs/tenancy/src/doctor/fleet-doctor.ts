import { ClusterRegistry, TenantRepository } from '@bulkhead/control-plane';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { DoctorReport, runDoctor } from './rls-doctor';

/**
 * The doctor over the whole fleet: each cluster's shared database (pool and every tenant schema),
 * then every silo database on its cluster, each checked as that cluster's admin role (RLS is
 * forced, so the owner would count zero rows). Findings outside main's shared database are
 * prefixed with where they were found; a database that cannot be reached, or a cluster with no
 * `adminUrl` to check it with, is a violation, never a silent pass.
 */
@Injectable()
export class FleetDoctor {
  constructor(
    private readonly clusters: ClusterRegistry,
    private readonly tenants: TenantRepository,
  ) {}

  async run(): Promise<DoctorReport> {
    const report: DoctorReport = { violations: [], tables: [], rowsPerTenant: [], connections: [] };
    for (const cluster of this.clusters.all()) {
      await this.check(report, cluster.key, cluster.key === 'main' ? '' : `${cluster.key}:${cluster.database}`, cluster.database);
    }
    for (const silo of await this.tenants.listLiveSilos()) {
      await this.check(report, silo.cluster, `${silo.slug} (${silo.databaseName})`, silo.databaseName, silo.databaseName);
    }
    return report;
  }

  /** Whether the registry still lists a silo at that database of that cluster (a silo moved to another cluster may keep its name). */
  private async stillLive(cluster: string, database: string): Promise<boolean> {
    return (await this.tenants.listLiveSilos()).some((silo) => silo.cluster === cluster && silo.databaseName === database);
  }

  private async check(report: DoctorReport, clusterKey: string, label: string, database: string, siloDatabase?: string): Promise<void> {
    const tablePrefix = siloDatabase ?? label;
    try {
      const cluster = this.clusters.get(clusterKey);
      if (!cluster.adminUrl) throw new Error(`cluster ${cluster.key} has no adminUrl in DATABASE_CLUSTERS`);
      const found = await withPg(withDatabase(cluster.adminUrl, database), 'bulkhead-doctor', (client) => runDoctor(client, parsePgUrl(cluster.url).user));
      const where = (text: string) => (label ? `${label}: ${text}` : text);
      const table = (name: string) => (tablePrefix ? `${tablePrefix}.${name}` : name);
      report.violations.push(...found.violations.map(where));
      report.tables.push(...found.tables.map((t) => ({ ...t, table: table(t.table) })));
      report.rowsPerTenant.push(...found.rowsPerTenant.map((r) => ({ ...r, table: table(r.table) })));
      // A server's sessions, once per cluster (a silo sits on its cluster's server).
      if (database === cluster.database) report.connections.push(...found.connections);
    } catch (error) {
      // A silo that left the fleet while the doctor ran (moved out or erased, its database
      // dropped after the listing) is no longer the fleet's: only one still listed is a violation.
      if (siloDatabase && !(await this.stillLive(clusterKey, siloDatabase))) return;
      report.violations.push(`${label || clusterKey}: cannot be checked: ${(error as Error).message}`);
    }
  }
}
