import { QueryFailedError } from 'typeorm';

interface PgError {
  code?: string;
  constraint?: string;
  message?: string;
}

function pgErrorOf(error: unknown): PgError | undefined {
  if (error instanceof QueryFailedError) return error.driverError as PgError;
  return undefined;
}

/**
 * Whether the violated constraint is the named one. On Citus the error is a worker's, relayed by
 * the coordinator without the constraint field, naming the shard's copy of the constraint, which
 * carries the shard id: `... violates unique constraint "customers_tenant_email_key_102247"`.
 */
function isConstraint(pg: PgError, constraint: string): boolean {
  const reported = pg.constraint ?? /constraint "([^"]+)"/.exec(pg.message ?? '')?.[1];
  return reported === constraint || (reported !== undefined && reported.startsWith(constraint + '_') && /^\d+$/.test(reported.slice(constraint.length + 1)));
}

/** Unique checks bypass RLS: map them to a domain error and never echo the DETAIL. */
export function isUniqueViolation(error: unknown, constraint: string): boolean {
  const pg = pgErrorOf(error);
  return pg?.code === '23505' && isConstraint(pg, constraint);
}

export function isForeignKeyViolation(error: unknown, constraint: string): boolean {
  const pg = pgErrorOf(error);
  return pg?.code === '23503' && isConstraint(pg, constraint);
}
