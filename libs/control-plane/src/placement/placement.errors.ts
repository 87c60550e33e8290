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
