import { BulkheadConfig } from '@bulkhead/config';
import { Inject, Injectable } from '@nestjs/common';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { CONTROL_PLANE_OPTIONS, ControlPlaneOptions, RUNTIME_DATA_SOURCE } from '../control-plane.options';

/**
 * The entity metadata of every silo, built once per process, and cheap per-silo data sources forked
 * from it. Opening a TypeORM DataSource per silo rebuilt every entity's metadata and spent several
 * round trips (version, database, schema, extensions) each time a silo pool was (re)opened, which
 * under churn was most of the cost of a request. A fork shares the template's metadata and
 * subscribers and differs only in its driver's pool, so opening a silo costs one `new Pool()` and
 * its first connection.
 *
 * The template itself is never connected: anything reaching it instead of a fork (a lazy relation,
 * a stray `template.manager`) fails with "Driver not Connected" rather than reading another
 * database.
 */
@Injectable()
export class SiloTemplate {
  private template: Promise<DataSource> | undefined;

  constructor(
    private readonly config: BulkheadConfig,
    @Inject(CONTROL_PLANE_OPTIONS) private readonly options: ControlPlaneOptions,
    @Inject(RUNTIME_DATA_SOURCE) private readonly shared: DataSource,
  ) {}

  /** A data source over `pool` (one silo database): TypeORM's API with this process's shared metadata. */
  async fork(pool: Pool, database: string): Promise<DataSource> {
    const template = await (this.template ??= this.build());
    const dataSource = Object.create(template) as DataSource;
    const driver = Object.create(template.driver) as PostgresDriver;
    // Own state where TypeORM mutates it (the runner list) or where it must name this silo.
    Object.assign(driver, { connection: dataSource, master: pool, slaves: [], database, connectedQueryRunners: [] });
    Object.assign(dataSource, { driver, isInitialized: true });
    Object.assign(dataSource, { manager: dataSource.createEntityManager() });
    return dataSource;
  }

  private async build(): Promise<DataSource> {
    const template = new DataSource({
      type: 'postgres',
      url: this.config.DATABASE_URL,
      entities: this.options.entities,
      subscribers: this.options.subscribers,
      synchronize: false,
      migrationsRun: false,
      logging: false,
      invalidWhereValuesBehavior: { undefined: 'throw', null: 'throw' },
    });
    // Metadata only, no connection: buildMetadatas is what initialize() runs after connecting.
    await (template as unknown as { buildMetadatas(): Promise<void> }).buildMetadatas();
    // What connect() would have asked the server: silos run on the same PostgreSQL as the shared pool's.
    const shared = this.shared.driver as PostgresDriver;
    Object.assign(template.driver, {
      version: shared.version,
      searchSchema: shared.searchSchema,
      schema: shared.schema,
      isGeneratedColumnsSupported: shared.isGeneratedColumnsSupported,
    });
    return template;
  }
}
