import { BulkheadConfig } from '@bulkhead/config';
import { DynamicModule, Module } from '@nestjs/common';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions, RUNTIME_DATA_SOURCE } from './control-plane.options';
import { ClusterRegistry } from './placement/cluster-registry';
import { DatabaseProbe } from './placement/database-probe';
import { DataSourceRouter } from './placement/data-source.router';
import { openRuntimeDataSource } from './placement/runtime-data-source';
import { RuntimeDataSourceLifecycle } from './placement/runtime-data-source.lifecycle';
import { SharedDataSources } from './placement/shared-data-sources';
import { SiloDataSources } from './placement/silo-data-sources';
import { SiloTemplate } from './placement/silo-template';
import { FairPoolGate } from './placement/fair-pool-gate';
import { FleetCensus } from './registry/fleet-census';
import { FleetMigrator } from './registry/fleet-migrator';
import { TenantAdmin } from './registry/tenant-admin';
import { TenantChangeFeed } from './registry/tenant-change-feed';
import { TenantProvisioner } from './registry/tenant-provisioner';
import { TenantRegistry } from './registry/tenant-registry';
import { TenantRepository } from './registry/tenant.repository';
import { TenantsAdminController } from './registry/tenants.admin.controller';
import { ConnectionsAdminController } from './placement/connections.admin.controller';

/** The registry, the clusters and the router to each tenant's placement; global, composed by the tenancy lib. */
@Module({})
export class ControlPlaneModule {
  static forRoot(options: ControlPlaneOptions): DynamicModule {
    return {
      module: ControlPlaneModule,
      global: true,
      controllers: options.http ? [TenantsAdminController, ConnectionsAdminController] : [],
      providers: [
        { provide: CONTROL_PLANE_OPTIONS, useValue: options },
        {
          provide: RUNTIME_DATA_SOURCE,
          inject: [BulkheadConfig],
          useFactory: (config: BulkheadConfig) => openRuntimeDataSource(config, options, options.applicationName),
        },
        ClusterRegistry,
        TenantProvisioner,
        FleetMigrator,
        FleetCensus,
        SiloTemplate,
        SiloDataSources,
        SharedDataSources,
        FairPoolGate,
        RuntimeDataSourceLifecycle,
        TenantRepository,
        TenantRegistry,
        TenantChangeFeed,
        TenantAdmin,
        DataSourceRouter,
        DatabaseProbe,
      ],
      exports: [DataSourceRouter, TenantRegistry, TenantRepository, TenantAdmin, ClusterRegistry, TenantProvisioner, SiloDataSources, FleetMigrator, FleetCensus, DatabaseProbe, TenantChangeFeed],
    };
  }
}
