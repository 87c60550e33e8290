import { MigrationSource } from '@bulkhead/database';
import { EntitySchema, MixedList } from 'typeorm';

export type EntityList = MixedList<Function | string | EntitySchema>;

/** What the app hands the control plane when it composes the platform. */
export interface ControlPlaneOptions {
  /** Every entity of every domain; opened on the shared pool and on every silo pool. */
  entities: EntityList;
  /** Subscribers of every tenant data source (the tenancy lib's write-side checks). */
  subscribers: MixedList<Function | string>;
  /** Every owner's migrations, platform first: what provisioning and fleet runs apply. */
  migrations: readonly MigrationSource[];
  /** `application_name` on the database connections, to tell processes apart in pg_stat_activity. */
  applicationName: string;
  /** Serve the operator routes. */
  http: boolean;
}

export const CONTROL_PLANE_OPTIONS = Symbol('bulkhead.control-plane-options');
/** Private to this lib: nothing outside it can inject the pool and reach tenant tables directly. */
export const RUNTIME_DATA_SOURCE = Symbol('bulkhead.runtime-data-source');
