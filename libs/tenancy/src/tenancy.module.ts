import { ControlPlaneModule } from '@bulkhead/control-plane';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { AuthenticationGuard, IdentityModule } from '@bulkhead/identity';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TenantGuard } from './access/tenant.guard';
import { RequestTenant } from './context/request-tenant';
import { TenantData } from './data/tenant-data';
import { TenantStampSubscriber } from './data/tenant-stamp.subscriber';
import { FleetDoctor } from './doctor/fleet-doctor';
import { migrationSourcesFor } from './tenancy.migrations';

export interface TenancyOptions {
  /** The domains this deployment runs (their entities join every tenant data source). */
  domains: readonly BulkheadDomain[];
  /** `application_name` on the database connections, to tell processes apart in pg_stat_activity. */
  applicationName: string;
  /** Mounts the deny-by-default access chain and the operator routes (the app runs each request as a unit of work: `runUnitOfWork`). */
  http: boolean;
}

/**
 * Composes the platform under every app: the control plane (registry, placements, router) with
 * this lib's write-side checks on every data source, the tenant context, and on HTTP the access
 * chain, authentication first, then tenant resolution.
 */
@Module({})
export class TenancyModule {
  static forRoot(options: TenancyOptions): DynamicModule {
    const access: Provider[] = [
      { provide: APP_GUARD, useClass: AuthenticationGuard },
      { provide: APP_GUARD, useClass: TenantGuard },
    ];
    return {
      module: TenancyModule,
      global: true,
      imports: [
        ControlPlaneModule.forRoot({
          entities: options.domains.flatMap((domain) => domain.entities as never[]),
          subscribers: [TenantStampSubscriber],
          migrations: migrationSourcesFor(options.domains),
          applicationName: options.applicationName,
          http: options.http,
        }),
        ...(options.http ? [IdentityModule.forRoot()] : []),
      ],
      providers: [TenantData, RequestTenant, FleetDoctor, ...(options.http ? access : [])],
      exports: [TenantData, RequestTenant, FleetDoctor],
    };
  }
}
