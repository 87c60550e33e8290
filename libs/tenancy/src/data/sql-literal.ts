import { quoteLiteral } from '@bulkhead/database';
import { TenantBoundaryViolationError } from './boundary.errors';

/** One bind parameter as an SQL literal; anything but plain scalars is refused. */
export function toSqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TenantBoundaryViolationError('non-finite number in a query parameter');
    // Parenthesised so `-$1` can never become `--1`, a comment.
    return value < 0 ? `(${value})` : String(value);
  }
  if (typeof value === 'bigint') return value < 0n ? `(${value})` : value.toString();
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) return quoteLiteral(value.toISOString());
  throw new TenantBoundaryViolationError(`unsupported query parameter of type ${typeof value}`);
}
