import { BulkheadConfig } from '@bulkhead/config';
import { ClusterRegistry, TenantAdmin, TenantProvisioner, TenantRecord, TenantRepository } from '@bulkhead/control-plane';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { Inject, Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { LifecycleOutbox } from '../events/lifecycle-outbox';
import { PermanentStepError, SagaStep, StepContext } from '../saga/saga-step';
import { StorageOperations } from '../warm-pool/storage-operations';
import { WarmPool } from '../warm-pool/warm-pool';
import { DNS_REGISTRAR, DnsRegistrar } from './dns-registrar';
import { IDENTITY_LINKER, IdentityLinker } from './identity-linker';
import { OnboardingRequest } from './onboarding-request';
import { TenantSeeder, TenantSeederProvider } from './tenant-seeder';

/**
 * The steps of onboarding, in order: reserve the slug and id (the registry row, `provisioning`),
 * check the placement, claim warm storage or provision it, bring it to the current data version,
 * seed starter data, register the host name, link the identity provider's organisation, activate,
 * announce `tenant.activated`. Each is idempotent; compensations release what was claimed.
 */
@Injectable()
export class OnboardingSteps {
  private seeders?: TenantSeeder[];

  constructor(
    private readonly admin: TenantAdmin,
    private readonly tenants: TenantRepository,
    private readonly clusters: ClusterRegistry,
    private readonly provisioner: TenantProvisioner,
    private readonly warmPool: WarmPool,
    private readonly storage: StorageOperations,
    private readonly outbox: LifecycleOutbox,
    private readonly discovery: DiscoveryService,
    private readonly config: BulkheadConfig,
    @Inject(DNS_REGISTRAR) private readonly dns: DnsRegistrar,
    @Inject(IDENTITY_LINKER) private readonly identity: IdentityLinker,
  ) {}

  steps(): SagaStep[] {
    return [
      {
        name: 'reserve',
        run: async (context) => {
          const request = context.saga.request as unknown as OnboardingRequest;
          let tenant = await this.admin.reserve(context.saga.tenantId, request);
          if (!tenant) {
            // Nothing reserved: the slug or the external reference belongs to another tenant. Say which.
            if (!request.externalRef || (await this.tenants.findBySlug(request.slug))) throw new PermanentStepError('tenant_slug_taken', 'A tenant with that slug already exists.');
            throw new PermanentStepError('tenant_external_ref_taken', 'A tenant with that external reference already exists.');
          }
          // A retry after compensation: this saga's own tenant was retired; it comes back to provisioning.
          if (tenant.status === 'deleted') tenant = (await this.tenants.transition(tenant.id, 'deleted', 'provisioning')) ?? tenant;
          return { slug: tenant.slug, tenantId: tenant.id };
        },
        compensate: async (context) => {
          await this.admin.retire(context.saga.tenantId);
        },
      },
      {
        name: 'place',
        run: async (context) => {
          const tenant = await this.tenant(context);
          // The cluster must be one this deployment serves (configuration may have changed since the reservation).
          const cluster = this.clusters.get(tenant.cluster);
          return { isolation: tenant.isolation, cluster: cluster.key, region: tenant.region, schemaName: tenant.schemaName, databaseName: tenant.databaseName };
        },
      },
      {
        name: 'storage',
        run: (context) => this.claimOrProvision(context),
        compensate: async (context) => {
          const tenant = await this.tenants.findById(context.saga.tenantId);
          if (!tenant) return;
          if (tenant.isolation === 'schema' && tenant.schemaName) await this.storage.dropSchema(tenant.cluster, tenant.schemaName, tenant.id);
          if (tenant.isolation === 'silo' && tenant.databaseName) await this.storage.dropDatabase(tenant.cluster, tenant.databaseName);
          const warm = context.details('storage').warmId;
          if (typeof warm === 'string') await this.warmPool.forget(warm);
        },
      },
      {
        name: 'migrate',
        run: async (context) => {
          const tenant = await this.tenant(context);
          const current = this.provisioner.currentDataVersion();
          // Storage claimed warm (or provisioned cold) at the current version needs no second pass.
          const version = context.details('storage').version === current ? current : ((await this.provisioner.provision(tenant))?.version ?? current);
          if (tenant.dataVersion !== version) await this.tenants.recordDataVersion(tenant.id, version);
          return { version };
        },
      },
      {
        name: 'seed',
        run: async (context) => {
          const tenant = await this.tenant(context);
          const seeded: string[] = [];
          for (const seeder of this.allSeeders()) {
            await runWithTenant(tenantContextOf(tenant, 'lifecycle'), () => seeder.seed({ id: tenant.id, slug: tenant.slug, name: tenant.name }));
            seeded.push(seeder.name);
            await context.checkpoint(`seeded ${seeder.name}`);
          }
          return { seeders: seeded };
        },
      },
      {
        name: 'dns',
        run: async (context) => {
          const tenant = await this.tenant(context);
          if (!this.config.TENANT_BASE_DOMAIN) return { host: null, skipped: 'TENANT_BASE_DOMAIN is not set' };
          const host = `${tenant.slug}.${this.config.TENANT_BASE_DOMAIN}`;
          if (!(await this.dns.register(host, tenant.id))) throw new PermanentStepError('host_taken', `The host ${host} belongs to another tenant.`);
          return { host };
        },
        compensate: async (context) => {
          const host = context.details('dns').host;
          if (typeof host === 'string') await this.dns.remove(host, context.saga.tenantId);
        },
      },
      {
        name: 'identity',
        run: async (context) => this.identity.link(await this.tenant(context)),
      },
      {
        name: 'activate',
        run: async (context) => {
          const tenant = await this.admin.activate(context.saga.tenantId);
          return { status: tenant.status };
        },
      },
      {
        name: 'announce',
        run: async (context) => {
          const tenant = await this.tenant(context);
          const eventId = await this.outbox.record(context.saga.id, 'tenant.activated', tenant.id, {
            slug: tenant.slug,
            tier: tenant.tier,
            isolation: tenant.isolation,
            cluster: tenant.cluster,
          });
          return { eventId };
        },
      },
    ];
  }

  /** The warm pool first (a rename), provisioning when it is empty; a repeated run finds what the last one did. */
  private async claimOrProvision(context: StepContext): Promise<Record<string, unknown>> {
    const tenant = await this.tenant(context);
    if (tenant.isolation === 'pool') return { model: 'pool' };
    const current = this.provisioner.currentDataVersion();
    // A run killed after the rename (the warm row already forgotten) finds the storage under the tenant's name.
    const earlier = context.details('storage');
    if (typeof earlier.warmId === 'string' && (await this.storageExists(tenant))) {
      await this.warmPool.forget(earlier.warmId);
      return { source: 'warm', warmId: earlier.warmId, version: earlier.version };
    }
    const warm = await this.warmPool.claim(tenant.cluster, tenant.isolation, tenant.id);
    if (warm) {
      await context.note({ warmId: warm.id, version: warm.dataVersion });
      await context.checkpoint('claimed');
      if (tenant.isolation === 'schema') {
        await this.storage.adoptSchema(tenant.cluster, { schema: warm.name, ledger: `schema:${warm.id}` }, { schema: tenant.schemaName as string, ledger: `schema:${tenant.id}` });
      } else {
        await this.storage.adoptDatabase(tenant.cluster, warm.name, tenant.databaseName as string);
      }
      await context.checkpoint('adopted');
      await this.warmPool.forget(warm.id);
      return { source: 'warm', warmId: warm.id, version: warm.dataVersion };
    }
    const outcome = await this.provisioner.provision(tenant);
    return { source: 'provisioned', version: outcome?.version ?? current };
  }

  private async storageExists(tenant: TenantRecord): Promise<boolean> {
    if (tenant.isolation === 'schema') return this.storage.schemaExists(tenant.cluster, tenant.schemaName as string);
    if (tenant.isolation === 'silo') return this.storage.databaseExists(tenant.cluster, tenant.databaseName as string);
    return true;
  }

  private async tenant(context: StepContext): Promise<TenantRecord> {
    const tenant = await this.tenants.findById(context.saga.tenantId);
    if (!tenant) throw new PermanentStepError('tenant_not_found', 'The tenant is not in the registry.');
    return tenant;
  }

  private allSeeders(): TenantSeeder[] {
    this.seeders ??= this.discovery
      .getProviders({ metadataKey: TenantSeederProvider.KEY })
      .map((wrapper) => wrapper.instance as TenantSeeder)
      .filter((seeder) => seeder && typeof seeder.seed === 'function');
    return this.seeders;
  }
}
