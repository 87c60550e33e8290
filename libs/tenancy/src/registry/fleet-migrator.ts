import { connectPg, provisionSchema, provisionSilo } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { Client } from 'pg';
import { ClusterRegistry } from '../placement/cluster-registry';
import { TenantRecord } from './tenant.record';
import { TenantRepository } from './tenant.repository';

export interface FleetTenantReport {
  tenantId: string;
  slug: string;
  model: 'schema' | 'silo';
  ok: boolean;
  applied: string[];
  pending: string[];
  version: number;
  error?: string;
}

export interface FleetOptions {
  concurrency: number;
  dryRun?: boolean;
  tenantId?: string;
  onReport?: (report: FleetTenantReport) => void;
}

const PAGE = 500;

/**
 * Brings every schema and silo tenant to the latest tenant migration, a bounded number at a time.
 * One tenant's failure is reported and the run goes on; each tenant's ledger lives beside its data,
 * so a crashed run resumes where it stopped, and the version each tenant carries is recorded in
 * the control plane. A tenant created during the run is provisioned at the latest version anyway.
 */
@Injectable()
export class FleetMigrator {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly clusters: ClusterRegistry,
  ) {}

  async run(options: FleetOptions): Promise<FleetTenantReport[]> {
    const reports: FleetTenantReport[] = [];
    const queue: TenantRecord[] = [];
    let after: string | undefined;
    let exhausted = false;
    const take = async (): Promise<TenantRecord | undefined> => {
      if (queue.length === 0 && !exhausted) {
        const page = await this.tenants.listPlaced({ after, limit: PAGE, id: options.tenantId });
        if (page.length < PAGE) exhausted = true;
        if (page.length) after = page[page.length - 1].id;
        queue.push(...page);
      }
      return queue.shift();
    };
    // Lanes take tenants one after another, so no page is fetched twice.
    let turn: Promise<TenantRecord | undefined> = Promise.resolve(undefined);
    const next = (): Promise<TenantRecord | undefined> => (turn = turn.then(take, take));
    const lanes = Array.from({ length: Math.max(1, options.concurrency) }, async () => {
      // Each lane keeps one owner connection per cluster for schema tenants.
      const connections = new Map<string, Client>();
      try {
        for (let tenant = await next(); tenant; tenant = await next()) {
          const report = await this.migrateOne(tenant, options.dryRun ?? false, connections);
          reports.push(report);
          options.onReport?.(report);
        }
      } finally {
        await Promise.all([...connections.values()].map((client) => client.end().catch(() => undefined)));
      }
    });
    await Promise.all(lanes);
    return reports;
  }

  private async migrateOne(tenant: TenantRecord, dryRun: boolean, connections: Map<string, Client>): Promise<FleetTenantReport> {
    const model = tenant.isolation as 'schema' | 'silo';
    const base = { tenantId: tenant.id, slug: tenant.slug, model };
    try {
      const cluster = this.clusters.get(tenant.cluster);
      let outcome;
      if (model === 'schema' && tenant.schemaName) {
        let client = connections.get(cluster.key);
        if (!client) {
          client = await connectPg(cluster.ownerUrl, 'bulkhead-fleet-migrate');
          connections.set(cluster.key, client);
        }
        outcome = await provisionSchema(cluster.ownerUrl, cluster.url, tenant.schemaName, tenant.id, { dryRun, client });
      } else if (model === 'silo' && tenant.databaseName) {
        outcome = await provisionSilo(cluster.ownerUrl, cluster.url, tenant.databaseName, { dryRun });
      } else {
        throw new Error('tenant has no placement name');
      }
      if (!dryRun && outcome.version !== tenant.dataVersion) await this.tenants.recordDataVersion(tenant.id, outcome.version);
      return {
        ...base,
        ok: true,
        applied: outcome.applied.map((m) => `${m.version}_${m.name}`),
        pending: outcome.pending.map((m) => `${m.version}_${m.name}`),
        version: outcome.version,
      };
    } catch (error) {
      // A lane's schema connection may be in a bad state after a failure: start it afresh.
      const client = connections.get(tenant.cluster);
      connections.delete(tenant.cluster);
      await client?.end().catch(() => undefined);
      return { ...base, ok: false, applied: [], pending: [], version: tenant.dataVersion, error: (error as Error).message };
    }
  }
}
