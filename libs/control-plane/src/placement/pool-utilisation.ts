import { DataSource } from 'typeorm';

interface PgPoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max: number };
}

/** Share of a data source's pool in use or waited for: 1.0 means every connection is busy. */
export function poolUtilisation(dataSource: DataSource): number {
  const pool = (dataSource.driver as unknown as { master?: PgPoolStats }).master;
  if (!pool) return 0;
  return (pool.totalCount - pool.idleCount + pool.waitingCount) / Math.max(pool.options.max, 1);
}
