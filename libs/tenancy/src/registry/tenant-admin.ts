import { BulkheadConfig } from '@bulkhead/config';
import { ProblemError } from '@bulkhead/problem';
import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { TenantNotFoundProblem, TenantSlugTakenProblem, TenantStateProblem } from '../tenancy.errors';
import { CreateTenantDto, ListTenantsQuery } from './tenant.dto';
import { TenantRecord, TenantStatus } from './tenant.record';
import { TenantRegistry } from './tenant-registry';
import { TenantRepository } from './tenant.repository';

/** Operator operations on the registry, shared by the admin API and the CLI. */
@Injectable()
export class TenantAdmin {
  constructor(
    private readonly tenants: TenantRepository,
    private readonly registry: TenantRegistry,
    private readonly config: BulkheadConfig,
  ) {}

  async create(input: CreateTenantDto): Promise<TenantRecord> {
    const isolation = input.isolation ?? 'pool';
    if (isolation !== 'pool') {
      throw new ProblemError(422, 'isolation_not_served', 'Isolation model not served', `The ${isolation} model is not served by this deployment yet; use pool.`);
    }
    const region = input.region ?? this.config.REGION;
    if (region !== this.config.REGION) {
      throw new ProblemError(422, 'region_not_served', 'Region not served', `No cluster serves region ${region}; this deployment serves ${this.config.REGION}.`);
    }
    // The pool needs no storage of its own, so a pool tenant is active as soon as it is recorded.
    const created = await this.tenants.insert({
      id: uuidv7(),
      slug: input.slug,
      name: input.name,
      tier: input.tier,
      isolation,
      status: 'active',
      region,
      externalRef: input.externalRef ?? null,
    });
    if (!created) throw new TenantSlugTakenProblem();
    this.registry.forget(created);
    return created;
  }

  async get(id: string): Promise<TenantRecord> {
    const found = await this.registry.findById(id);
    if (!found) throw new TenantNotFoundProblem();
    return found;
  }

  /** By id or slug, for operators typing at a terminal. */
  async find(reference: string): Promise<TenantRecord> {
    const found = (await this.registry.findById(reference)) ?? (await this.tenants.findBySlug(reference));
    if (!found) throw new TenantNotFoundProblem();
    return found;
  }

  list(query: ListTenantsQuery): Promise<TenantRecord[]> {
    return this.tenants.list({ after: query.after, limit: query.limit ?? 50, status: query.status });
  }

  suspend(id: string): Promise<TenantRecord> {
    return this.transition(id, 'active', 'suspended');
  }

  reactivate(id: string): Promise<TenantRecord> {
    return this.transition(id, 'suspended', 'active');
  }

  private async transition(id: string, from: TenantStatus, to: TenantStatus): Promise<TenantRecord> {
    const moved = await this.tenants.transition(id, from, to);
    if (moved) {
      this.registry.forget(moved);
      return moved;
    }
    const current = await this.get(id);
    throw new TenantStateProblem(`The tenant is ${current.status}; it must be ${from} to become ${to}.`);
  }
}
