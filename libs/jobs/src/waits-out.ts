import { OverloadedProblem } from '@bulkhead/control-plane';
import { isInfrastructureFailure } from '@bulkhead/problem';

/**
 * Whether a run failed on a passing state of the platform rather than on the job itself, so the
 * job waits and runs again without spending an attempt: PostgreSQL or Redis unreachable
 * (`isInfrastructureFailure`), or this process shedding the job's unit of work (503 `overloaded`:
 * the pool gate's wait budget ran out with every connection it could use held, or the silo
 * connection budget was spent). A worker busy with long jobs sheds the others' units of work;
 * counted as failures, those sheds failed jobs for good (an export left `failed`) while nothing
 * but the worker's own load was wrong.
 */
export function waitsOut(error: unknown): boolean {
  return isInfrastructureFailure(error) || error instanceof OverloadedProblem;
}
