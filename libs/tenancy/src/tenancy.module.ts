import { UndeclaredQueryGuard } from './access/undeclared-query.guard';
import { ControlPlaneModule } from '@bulkhead/control-plane';
import { BulkheadDomain } from '@bulkhead/domain-kit';
import { AuthenticationGuard, IdentityModule } from '@bulkhead/identity';
import { CanActivate, DynamicModule, Module, Provider, Type } from '@nestjs/common';
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
  /**
   * HTTP only: further stages of the access chain, run after the tenant guard in this order, so
   * they see the request's tenant context (per-tenant rate limits, for instance).
   */
  access?: readonly AccessStage[];
}

/** A guard that runs after the tenant guard, and the module that provides what it injects. */
export interface AccessStage {
  readonly module: Type<unknown>;
  readonly guard: Type<CanActivate>;
}

/**
 * Composes the platform under every app: the control plane (registry, placements, router) with
 * this lib's write-side checks on every data source, the tenant context, and on HTTP the access
 * chain, authentication first, then tenant resolution, then the stages the app adds (`access`).
 */
@Module({})
export class TenancyModule {
  static forRoot(options: TenancyOptions): DynamicModule {
    const stages = options.http ? (options.access ?? []) : [];
    // Global guards run in the order they are registered: authentication, tenant, the stages, then
    // the query check (after the rate limits, so a refused request still counts against them).
    const access: Provider[] = [
      { provide: APP_GUARD, useClass: AuthenticationGuard },
      { provide: APP_GUARD, useClass: TenantGuard },
      ...stages.map((stage) => ({ provide: APP_GUARD, useClass: stage.guard })),
      { provide: APP_GUARD, useClass: UndeclaredQueryGuard },
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
        ...stages.map((stage) => stage.module),
      ],
      providers: [TenantData, RequestTenant, FleetDoctor, ...(options.http ? access : [])],
      exports: [TenantData, RequestTenant, FleetDoctor],
    };
  }
}
