import { migrationLabel } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { OwnerConnections } from './owner-connections';
import { TenantProvisioner } from './tenant-provisioner';
import { TenantRecord } from './tenant.record';
import { TenantRepository } from './tenant.repository';

export interface FleetTenantReport {
  tenantId: string;
  slug: string;
  model: 'schema' | 'silo';
  ok: boolean;
  /** `<owner>/<version>_<name>` of each migration applied (or pending, for a dry run). */
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
 * Brings every schema and silo tenant to the latest tenant migrations, a bounded number at a
 * time, through the provisioner. One tenant's failure is reported and the run goes on; each
 * tenant's ledger lives beside its data, so a crashed run resumes where it stopped, and the data
 * version each tenant carries is recorded in the control plane. A tenant created during the run
 * is provisioned at the latest version anyway.
 */
@Injectable()
export class FleetMigrator {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly provisioner: TenantProvisioner,
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
      const connections = new OwnerConnections();
      try {
        for (let tenant = await next(); tenant; tenant = await next()) {
          const report = await this.migrateOne(tenant, options.dryRun ?? false, connections);
          reports.push(report);
          options.onReport?.(report);
        }
      } finally {
        await connections.close();
      }
    });
    await Promise.all(lanes);
    return reports;
  }

  private async migrateOne(tenant: TenantRecord, dryRun: boolean, connections: OwnerConnections): Promise<FleetTenantReport> {
    const base = { tenantId: tenant.id, slug: tenant.slug, model: tenant.isolation as 'schema' | 'silo' };
    try {
      const outcome = await this.provisioner.provision(tenant, { dryRun, connections });
      if (!outcome) throw new Error('a pool tenant has no storage of its own');
      if (!dryRun && outcome.version !== tenant.dataVersion) await this.tenants.recordDataVersion(tenant.id, outcome.version);
      return { ...base, ok: true, applied: outcome.applied.map(migrationLabel), pending: outcome.pending.map(migrationLabel), version: outcome.version };
    } catch (error) {
      await connections.reset(tenant.cluster);
      return { ...base, ok: false, applied: [], pending: [], version: tenant.dataVersion, error: (error as Error).message };
    }
  }
}
