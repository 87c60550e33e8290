import { ProblemError } from '@bulkhead/problem';

export class PlacementUnavailableProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'placement_unavailable', 'Placement unavailable', detail, { retryAfterSeconds: 30 });
  }
}

/** Shed before queueing without bound: the caller should retry shortly. */
export class OverloadedProblem extends ProblemError {
  constructor(detail: string) {
    super(503, 'overloaded', 'Temporarily overloaded', detail, { retryAfterSeconds: 1 });
  }
}

export class RegionNotServedProblem extends ProblemError {
  constructor(region: string) {
    super(422, 'region_not_served', 'Region not served', `No database cluster serves region ${region}.`);
  }
}

/** A placement record that cannot be routed: a bug or a tampered registry, never a client error. */
export class InvalidPlacementError extends Error {
  readonly code = 'invalid_placement';

  constructor(detail: string) {
    super(`Invalid placement: ${detail}`);
    this.name = 'InvalidPlacementError';
  }
}

export class UnsafeDatabaseRoleError extends Error {
  readonly code = 'unsafe_database_role';

  constructor(detail: string) {
    super(
      `Refusing to start: the runtime database role could bypass row-level security (${detail}). ` +
        'Point DATABASE_URL at the runtime role created by `npm run setup` (no SUPERUSER, no BYPASSRLS, owns nothing).',
    );
    this.name = 'UnsafeDatabaseRoleError';
  }
}

/**
 * The SQLSTATE a tenant's old placement raises on a write once the tenant has moved (the capture
 * trigger of @bulkhead/tenant-moves): the write rolled back untouched and belongs on the new placement.
 */
export const PLACEMENT_MOVED_SQLSTATE = 'BHM01';

/**
 * The SQLSTATE a tenant's placement raises on a write while a move holds the tenant's write fence:
 * the write rolled back untouched, to run again once the fence lifts (holding no connection meanwhile).
 */
export const PLACEMENT_FENCED_SQLSTATE = 'BHM02';

/**
 * The advisory lock of a tenant's move fence in its placement's database, as SQL: the mover holds
 * it exclusively while fenced, each captured write tries it shared, and a fenced write's unit of
 * work asks whether it is free before running again.
 */
export function placementFenceLockSql(tenantIdSql: string): string {
  return `hashtextextended('bulkhead-move:' || ${tenantIdSql}, 0)`;
}

/** A write met a move that had not switched within the write's budget: retry shortly. */
export class PlacementMovingProblem extends ProblemError {
  constructor() {
    super(503, 'placement_moving', 'Tenant being moved', "The tenant's data is being moved; retry shortly.", { retryAfterSeconds: 1 });
  }
}
