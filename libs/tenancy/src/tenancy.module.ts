import { BulkheadConfig } from '@bulkhead/config';
import { DynamicModule, Module, Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ClsModule } from 'nestjs-cls';
import { AuthenticationGuard } from './access/authentication.guard';
import { TenantGuard } from './access/tenant.guard';
import { RequestTenant } from './context/request-tenant';
import { TenantData } from './data/tenant-data';
import { DevIssuer } from './identity/dev-issuer';
import { JwksController } from './identity/jwks.controller';
import { JwtStrategy } from './identity/jwt.strategy';
import { DatabaseProbe } from './placement/database-probe';
import { DataSourceRouter } from './placement/data-source.router';
import { APPLICATION_NAME, EntityList, openRuntimeDataSource, RUNTIME_DATA_SOURCE, TENANT_ENTITIES } from './placement/runtime-data-source';
import { ClusterRegistry } from './placement/cluster-registry';
import { SiloDataSources } from './placement/silo-data-sources';
import { TenantConnectionGate } from './placement/tenant-connection-gate';
import { FleetMigrator } from './registry/fleet-migrator';
import { TenantChangeFeed } from './registry/tenant-change-feed';
import { TenantProvisioner } from './registry/tenant-provisioner';
import { RuntimeDataSourceLifecycle } from './placement/runtime-data-source.lifecycle';
import { TenantAdmin } from './registry/tenant-admin';
import { TenantRegistry } from './registry/tenant-registry';
import { TenantRepository } from './registry/tenant.repository';
import { TenantsAdminController } from './registry/tenants.admin.controller';

export interface TenancyOptions {
  /** Every entity of every domain lib; tenant tables extend TenantOwnedEntity. */
  entities: EntityList;
  /** `application_name` on the database connections, to tell processes apart in pg_stat_activity. */
  applicationName: string;
  /** Mounts the per-request context, the global deny-by-default guards and the admin routes. */
  http: boolean;
}

@Module({})
export class TenancyModule {
  static forRoot(options: TenancyOptions): DynamicModule {
    const core: Provider[] = [
      { provide: TENANT_ENTITIES, useValue: options.entities },
      { provide: APPLICATION_NAME, useValue: options.applicationName },
      {
        provide: RUNTIME_DATA_SOURCE,
        inject: [BulkheadConfig],
        useFactory: (config: BulkheadConfig) => openRuntimeDataSource(config, options.entities, options.applicationName),
      },
      ClusterRegistry,
      TenantProvisioner,
      FleetMigrator,
      SiloDataSources,
      TenantConnectionGate,
      RuntimeDataSourceLifecycle,
      TenantRepository,
      TenantRegistry,
      TenantChangeFeed,
      TenantAdmin,
      DataSourceRouter,
      TenantData,
      RequestTenant,
      DatabaseProbe,
    ];
    const http: Provider[] = [
      {
        provide: DevIssuer,
        inject: [BulkheadConfig],
        useFactory: (config: BulkheadConfig) => (config.DEV_ISSUER ? new DevIssuer(config) : null),
      },
      JwtStrategy,
      // Order matters: authenticate first, then resolve and bind the tenant.
      { provide: APP_GUARD, useClass: AuthenticationGuard },
      { provide: APP_GUARD, useClass: TenantGuard },
    ];
    return {
      module: TenancyModule,
      global: true,
      imports: [
        ClsModule.forRoot({ global: true, middleware: { mount: options.http } }),
        ...(options.http ? [PassportModule] : []),
      ],
      controllers: options.http ? [TenantsAdminController, JwksController] : [],
      providers: [...core, ...(options.http ? http : [])],
      exports: [TenantData, TenantRegistry, TenantAdmin, RequestTenant, DataSourceRouter, DatabaseProbe, ClusterRegistry, TenantProvisioner, SiloDataSources, FleetMigrator],
    };
  }
}
