import { BulkheadConfig } from '@bulkhead/config';
import { databaseNameFor, schemaNameFor } from '@bulkhead/database';
import { Injectable, Logger } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Cluster, ClusterRegistry } from '../placement/cluster-registry';
import { ReactivationVeto } from './reactivation-veto';
import { ProvisioningFailedProblem, TenantErasedProblem, TenantExternalRefTakenProblem, TenantNotFoundProblem, TenantSlugTakenProblem, TenantStateProblem } from './registry.errors';
import { TenantChangeFeed } from './tenant-change-feed';
import { TenantProvisioner } from './tenant-provisioner';
import { CreateTenantDto, ListTenantsQuery } from './tenant.dto';
import { TenantRecord, TenantStatus } from './tenant.record';
import { TenantRegistry } from './tenant-registry';
import { TenantRepository } from './tenant.repository';

/** Operator operations on the registry, shared by the admin API and the CLI. */
@Injectable()
export class TenantAdmin {
  private readonly logger = new Logger('TenantAdmin');

  private readonly vetoes: ReactivationVeto[] = [];

  constructor(
    private readonly tenants: TenantRepository,
    private readonly registry: TenantRegistry,
    private readonly clusters: ClusterRegistry,
    private readonly provisioner: TenantProvisioner,
    private readonly changes: TenantChangeFeed,
    private readonly config: BulkheadConfig,
  ) {}

  /**
   * Records the tenant on a cluster of its region, in the model its tier (or the operator) asks
   * for, then provisions its storage, in one call with no ledger. A failure leaves it
   * `provisioning`; `provision` resumes. Tenants of a deployment are made by the lifecycle's
   * onboarding saga (the API, the CLI and the demo); this is the fixture path of tests and
   * benchmarks, and the floor the signup benchmark compares the saga with.
   */
  async create(input: CreateTenantDto): Promise<TenantRecord> {
    const created = await this.reserve(uuidv7(), input);
    if (!created) throw (await this.tenants.findBySlug(input.slug)) ? new TenantSlugTakenProblem() : new TenantExternalRefTakenProblem();
    if (created.isolation === 'pool') return this.activate(created.id);
    return this.provision(created.id);
  }

  /**
   * Records a tenant `provisioning` under the id given, placed on a cluster of its region: the
   * first step of onboarding. Null when the slug or external reference is taken by another tenant;
   * the record already there when this id was reserved before (a repeated step).
   */
  async reserve(id: string, input: CreateTenantDto): Promise<TenantRecord | null> {
    const isolation = input.isolation ?? this.config.tierIsolation[input.tier];
    const region = input.region ?? this.config.REGION;
    const cluster = await this.leastLoadedCluster(region);
    const created = await this.tenants.insert({
      id,
      slug: input.slug,
      name: input.name,
      tier: input.tier,
      isolation,
      status: 'provisioning',
      region,
      externalRef: input.externalRef ?? null,
      cluster: cluster.key,
      schemaName: isolation === 'schema' ? schemaNameFor(id) : null,
      databaseName: isolation === 'silo' ? databaseNameFor(id, cluster.database) : null,
    });
    if (created) {
      await this.changes.publish(created);
      return created;
    }
    return this.tenants.findById(id);
  }

  /** Makes a `provisioning` tenant active (its storage ready) and tells every instance; safe to repeat. */
  async activate(id: string): Promise<TenantRecord> {
    const active = await this.tenants.transition(id, 'provisioning', 'active');
    if (active) {
      await this.changes.publish(active);
      return active;
    }
    const current = await this.tenants.findById(id);
    if (!current) throw new TenantNotFoundProblem();
    if (current.status !== 'active') throw new TenantStateProblem(`The tenant is ${current.status}; it must be provisioning to become active.`);
    return current;
  }

  /**
   * The cluster of the region holding the fewest live tenants (main on a tie): new tenants fill the
   * emptier cluster, and moves rebalance the rest. A registry count, not a load probe: placement
   * is for the tenant's life, not for this minute's traffic.
   */
  private async leastLoadedCluster(region: string): Promise<Cluster> {
    const candidates = this.clusters.inRegion(region);
    if (candidates.length === 1) return candidates[0];
    const counts = await this.tenants.countLiveByCluster(candidates.map((cluster) => cluster.key));
    return candidates.reduce((best, cluster) => ((counts.get(cluster.key) ?? 0) < (counts.get(best.key) ?? 0) ? cluster : best));
  }

  /** Retires a tenant for good (failed onboarding, erased): its tokens and jobs are refused everywhere. */
  async retire(id: string): Promise<TenantRecord | null> {
    const current = await this.tenants.findById(id);
    if (!current || current.status === 'deleted') return current;
    const retired = await this.tenants.transition(id, current.status, 'deleted');
    if (retired) await this.changes.publish(retired);
    return retired ?? this.tenants.findById(id);
  }

  /** Provisions (again) a tenant's storage and activates it; safe to repeat. */
  async provision(id: string): Promise<TenantRecord> {
    const tenant = await this.get(id);
    if (tenant.status !== 'provisioning' && tenant.status !== 'active') {
      throw new TenantStateProblem(`The tenant is ${tenant.status}; only a provisioning or active tenant can be provisioned.`);
    }
    let outcome;
    try {
      outcome = await this.provisioner.provision(tenant);
    } catch (error) {
      this.logger.error({ err: error, tenantId: tenant.id }, 'provisioning failed');
      throw new ProvisioningFailedProblem();
    }
    if (outcome) await this.tenants.recordDataVersion(tenant.id, outcome.version);
    const active = tenant.status === 'provisioning' ? await this.tenants.transition(tenant.id, 'provisioning', 'active') : tenant;
    await this.changes.publish(tenant);
    return active ?? this.get(id);
  }

  async get(id: string): Promise<TenantRecord> {
    const found = await this.registry.findById(id);
    if (!found) throw new TenantNotFoundProblem();
    return found;
  }

  /**
   * The tenant, for operator routes about its runtime state: 410 once it is erased (its record
   * stays; its jobs, limits, counts and connections went with it).
   */
  operable(tenant: TenantRecord): TenantRecord {
    if (tenant.status === 'deleted') throw new TenantErasedProblem();
    return tenant;
  }

  /** By id or slug, for operators typing at a terminal. */
  async find(reference: string): Promise<TenantRecord> {
    const found = (await this.registry.findById(reference)) ?? (await this.tenants.findBySlug(reference));
    if (!found) throw new TenantNotFoundProblem();
    return found;
  }

  list(query: ListTenantsQuery): Promise<TenantRecord[]> {
    const { after, limit, status, tier, isolation, region, search } = query;
    return this.tenants.list({ after, limit: limit ?? 50, status, tier, isolation, region, search });
  }

  suspend(id: string): Promise<TenantRecord> {
    return this.transition(id, 'active', 'suspended');
  }

  /** Refused while a registered veto holds the tenant (an offboarding under way: restore it instead). */
  async reactivate(id: string): Promise<TenantRecord> {
    for (const veto of this.vetoes) {
      const reason = await veto.reasonToRefuse(id);
      if (reason) throw new TenantStateProblem(reason);
    }
    return this.transition(id, 'suspended', 'active');
  }

  /**
   * Lifts a fence its owner put up (the offboarding's compensation), past the vetoes: the owner
   * is the one lifting it.
   */
  liftFence(id: string): Promise<TenantRecord> {
    return this.transition(id, 'suspended', 'active');
  }

  vetoReactivation(veto: ReactivationVeto): void {
    this.vetoes.push(veto);
  }

  private async transition(id: string, from: TenantStatus, to: TenantStatus): Promise<TenantRecord> {
    const moved = await this.tenants.transition(id, from, to);
    if (moved) {
      await this.changes.publish(moved);
      return moved;
    }
    const current = await this.get(id);
    throw new TenantStateProblem(`The tenant is ${current.status}; it must be ${from} to become ${to}.`);
  }
}
