import { DataSource } from 'typeorm';
import { IsolationModel } from '../context/tenant-context';

/**
 * Where a tenant's data lives. The pool model shares one data source and relies on `tenant_id`
 * plus RLS; the schema model adds a search path; the silo model has its own data source.
 */
export interface Placement {
  readonly model: IsolationModel;
  readonly dataSource: DataSource;
  /** Already-quoted schema list for `search_path`, set per transaction; absent in the pool. */
  readonly searchPath?: string;
}
