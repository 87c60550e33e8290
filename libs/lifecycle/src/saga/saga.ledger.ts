import { Injectable } from '@nestjs/common';
import { PoolClient } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { LifecycleStore } from '../lifecycle.store';
import { SagaKind, SagaRecord, SagaStatus, StepRecord } from './saga.record';

interface SagaRow {
  id: string;
  tenant: string;
  kind: SagaKind;
  status: SagaStatus;
  request: Record<string, unknown>;
  started_by: string;
  reason: string | null;
  abort_requested: boolean;
  runs: number;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

interface StepRow {
  position: number;
  step: string;
  status: StepRecord['status'];
  attempts: number;
  failures: number;
  last_error: string | null;
  details: Record<string, unknown>;
  started_at: Date | null;
  finished_at: Date | null;
}

const SAGA_COLUMNS = 'id, tenant, kind, status, request, started_by, reason, abort_requested, runs, created_at, updated_at, finished_at';

function toSaga(row: SagaRow): SagaRecord {
  return {
    id: row.id,
    tenantId: row.tenant,
    kind: row.kind,
    status: row.status,
    request: row.request,
    startedBy: row.started_by,
    reason: row.reason,
    abortRequested: row.abort_requested,
    runs: row.runs,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

const STEPS_SQL = 'SELECT position, step, status, attempts, failures, last_error, details, started_at, finished_at FROM lifecycle_steps WHERE saga_id = $1 ORDER BY position';

function toStep(row: StepRow): StepRecord {
  return {
    position: row.position,
    step: row.step,
    status: row.status,
    attempts: row.attempts,
    failures: row.failures,
    lastError: row.last_error,
    details: row.details,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export interface NewSaga {
  tenantId: string;
  kind: SagaKind;
  request: Record<string, unknown>;
  startedBy: string;
  steps: readonly string[];
  /** Dedupes submits: a second saga with the same key is not created. */
  requestKey?: string;
  requestDigest?: string;
}

/** The saga ledger in the control plane: sagas, their steps in order, leases. */
@Injectable()
export class SagaLedger {
  constructor(private readonly store: LifecycleStore) {}

  /**
   * Records a saga and its steps, all pending, in one transaction. With a request key already used,
   * or another saga of the tenant at work, nothing is created: `existing` is that saga.
   */
  async create(saga: NewSaga): Promise<{ saga: SagaRecord; created: boolean; digest: string | null }> {
    return this.store.transaction(async (client) => {
      const id = uuidv7();
      const inserted = await client.query<SagaRow>(
        `INSERT INTO lifecycle_sagas (id, tenant, kind, status, request, request_key, request_digest, started_by)
         VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
         ON CONFLICT DO NOTHING RETURNING ${SAGA_COLUMNS}`,
        [id, saga.tenantId, saga.kind, saga.request, saga.requestKey ?? null, saga.requestDigest ?? null, saga.startedBy],
      );
      if (inserted.rows[0]) {
        await client.query(
          `INSERT INTO lifecycle_steps (saga_id, position, step, status)
           SELECT $1, ordinality, step, 'pending' FROM unnest($2::text[]) WITH ORDINALITY AS s(step, ordinality)`,
          [id, saga.steps],
        );
        return { saga: toSaga(inserted.rows[0]), created: true, digest: saga.requestDigest ?? null };
      }
      const existing = await client.query<SagaRow & { request_digest: string | null }>(
        `SELECT ${SAGA_COLUMNS}, request_digest FROM lifecycle_sagas
          WHERE ($1::text IS NOT NULL AND request_key = $1) OR (tenant = $2 AND status IN ('running', 'compensating'))
          ORDER BY (request_key IS NOT DISTINCT FROM $1) DESC LIMIT 1`,
        [saga.requestKey ?? null, saga.tenantId],
      );
      if (!existing.rows[0]) throw new Error('saga conflict without a conflicting saga');
      return { saga: toSaga(existing.rows[0]), created: false, digest: existing.rows[0].request_digest };
    });
  }

  async get(id: string): Promise<SagaRecord | null> {
    const rows = await this.store.query<SagaRow>(`SELECT ${SAGA_COLUMNS} FROM lifecycle_sagas WHERE id = $1`, [id]);
    return rows[0] ? toSaga(rows[0]) : null;
  }

  async forTenant(tenantId: string): Promise<SagaRecord[]> {
    const rows = await this.store.query<SagaRow>(`SELECT ${SAGA_COLUMNS} FROM lifecycle_sagas WHERE tenant = $1 ORDER BY created_at, id`, [tenantId]);
    return rows.map(toSaga);
  }

  async steps(sagaId: string): Promise<StepRecord[]> {
    return (await this.store.query<StepRow>(STEPS_SQL, [sagaId])).map(toStep);
  }

  /** Takes the saga for one run if no live run holds it. */
  async acquire(sagaId: string, owner: string, leaseMs: number): Promise<SagaRecord | null> {
    const rows = await this.store.query<SagaRow>(
      `UPDATE lifecycle_sagas SET lease_owner = $2, lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
        WHERE id = $1 AND status IN ('running', 'compensating') AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $2)
        RETURNING ${SAGA_COLUMNS}`,
      [sagaId, owner, leaseMs],
    );
    return rows[0] ? toSaga(rows[0]) : null;
  }

  async renew(sagaId: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.store.query(
      `UPDATE lifecycle_sagas SET lease_until = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
        WHERE id = $1 AND lease_owner = $2 RETURNING id`,
      [sagaId, owner, leaseMs],
    );
    return rows.length > 0;
  }

  async release(sagaId: string, owner: string): Promise<void> {
    await this.store.query('UPDATE lifecycle_sagas SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2', [sagaId, owner]);
  }

  /**
   * The step waits for its time (grace period): pending again, the saga held by nobody until `due`.
   * Only a saga still running sleeps: one an operator aborted meanwhile (its status already
   * `compensating`) must compensate now, not lie asleep until `due` with its tenant fenced and
   * every route out refused. False when it did not sleep.
   */
  async sleepUntil(sagaId: string, position: number, due: Date): Promise<boolean> {
    return this.store.transaction(async (client) => {
      // The saga's row first, as startStep and requestAbort take it: one lock order, no deadlock.
      const saga = await client.query<{ status: string }>('SELECT status FROM lifecycle_sagas WHERE id = $1 FOR UPDATE', [sagaId]);
      await client.query("UPDATE lifecycle_steps SET status = 'pending', details = details || jsonb_build_object('due', $3::text) WHERE saga_id = $1 AND position = $2", [sagaId, position, due.toISOString()]);
      if (saga.rows[0]?.status !== 'running') return false;
      await client.query("UPDATE lifecycle_sagas SET lease_owner = 'sleeping', lease_until = $2, updated_at = now() WHERE id = $1", [sagaId, due]);
      return true;
    });
  }

  /**
   * Marks the step running, only while the saga runs: false once an abort has turned it to
   * compensation. The saga's row is locked first, as `requestAbort` locks it, so an abort and the
   * start of an irreversible step are ordered: the abort sees the step begun and is refused, or
   * the step sees the saga compensating and does not begin.
   */
  async startStep(sagaId: string, position: number): Promise<boolean> {
    return this.store.transaction(async (client) => {
      const saga = await client.query<{ status: string }>('SELECT status FROM lifecycle_sagas WHERE id = $1 FOR UPDATE', [sagaId]);
      if (saga.rows[0]?.status !== 'running') return false;
      await client.query(
        "UPDATE lifecycle_steps SET status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now()), finished_at = NULL WHERE saga_id = $1 AND position = $2",
        [sagaId, position],
      );
      return true;
    });
  }

  async note(sagaId: string, position: number, details: Record<string, unknown>): Promise<void> {
    await this.store.query('UPDATE lifecycle_steps SET details = details || $3::jsonb WHERE saga_id = $1 AND position = $2', [sagaId, position, details]);
  }

  async completeStep(sagaId: string, position: number, details: Record<string, unknown>): Promise<void> {
    await this.store.query(
      "UPDATE lifecycle_steps SET status = 'succeeded', details = details || $3::jsonb, last_error = NULL, finished_at = now() WHERE saga_id = $1 AND position = $2",
      [sagaId, position, details],
    );
  }

  /** Counts a real failure; answers how many the step has had. */
  async failStep(sagaId: string, position: number, error: string, counts: boolean): Promise<number> {
    const rows = await this.store.query<{ failures: number }>(
      `UPDATE lifecycle_steps SET status = 'failed', last_error = left($3, 2000), failures = failures + $4::int, finished_at = now()
        WHERE saga_id = $1 AND position = $2 RETURNING failures`,
      [sagaId, position, error, counts ? 1 : 0],
    );
    return rows[0]?.failures ?? 0;
  }

  async markCompensated(sagaId: string, position: number): Promise<void> {
    await this.store.query("UPDATE lifecycle_steps SET status = 'compensated', finished_at = now() WHERE saga_id = $1 AND position = $2", [sagaId, position]);
  }

  /** The saga fails for good (or is aborted): compensations run next. */
  async beginCompensation(sagaId: string, reason: string): Promise<void> {
    await this.store.query(
      "UPDATE lifecycle_sagas SET status = 'compensating', reason = coalesce(reason, $2), updated_at = now() WHERE id = $1 AND status = 'running'",
      [sagaId, reason],
    );
  }

  async finish(sagaId: string, status: 'succeeded' | 'failed' | 'aborted'): Promise<void> {
    await this.store.query(
      "UPDATE lifecycle_sagas SET status = $2, lease_owner = NULL, lease_until = NULL, finished_at = now(), updated_at = now() WHERE id = $1 AND status IN ('running', 'compensating')",
      [sagaId, status],
    );
  }

  /**
   * An operator's abort: a running saga compensates and ends `aborted`. 'past_point' when
   * `pastPoint` finds, in the saga's steps read under the row lock that `startStep` takes, a step
   * past which nothing is undone (`SagaDefinitions.pointOfNoReturn`): a check before this call
   * could not see a step starting meanwhile, and the abort would be accepted for a saga that then
   * erases. 'not_running' for a saga that is not running.
   */
  async requestAbort(sagaId: string, reason: string, pastPoint: (steps: StepRecord[]) => boolean): Promise<'requested' | 'past_point' | 'not_running'> {
    return this.store.transaction(async (client) => {
      const saga = await client.query<{ status: string }>('SELECT status FROM lifecycle_sagas WHERE id = $1 FOR UPDATE', [sagaId]);
      if (saga.rows[0]?.status !== 'running') return 'not_running';
      if (pastPoint((await client.query<StepRow>(STEPS_SQL, [sagaId])).rows.map(toStep))) return 'past_point';
      await client.query(
        `UPDATE lifecycle_sagas SET status = 'compensating', abort_requested = true, reason = $2, updated_at = now(),
                lease_owner = CASE WHEN lease_owner = 'sleeping' THEN NULL ELSE lease_owner END,
                lease_until = CASE WHEN lease_owner = 'sleeping' THEN NULL ELSE lease_until END
          WHERE id = $1`,
        [sagaId, reason],
      );
      return 'requested';
    });
  }

  /** An operator's retry of a failed saga: every step not done runs again, from the first. */
  async restart(sagaId: string): Promise<SagaRecord | null> {
    return this.store.transaction(async (client: PoolClient) => {
      const rows = await client.query<SagaRow>(
        `UPDATE lifecycle_sagas SET status = 'running', reason = NULL, abort_requested = false, runs = runs + 1, finished_at = NULL, updated_at = now()
          WHERE id = $1 AND status = 'failed' RETURNING ${SAGA_COLUMNS}`,
        [sagaId],
      );
      if (!rows.rows[0]) return null;
      // A compensated step undid its work: it runs again too, and what it noted about that work
      // (the fence's "this suspension is mine") described something no longer there.
      await client.query(
        "UPDATE lifecycle_steps SET status = 'pending', failures = 0, last_error = NULL, details = CASE WHEN status = 'compensated' THEN '{}' ELSE details END WHERE saga_id = $1 AND status <> 'succeeded'",
        [sagaId],
      );
      return toSaga(rows.rows[0]);
    });
  }

  async bumpRuns(sagaId: string): Promise<number> {
    const rows = await this.store.query<{ runs: number }>('UPDATE lifecycle_sagas SET runs = runs + 1 WHERE id = $1 RETURNING runs', [sagaId]);
    return rows[0]?.runs ?? 0;
  }

  /** Sagas at work that no live run holds and that have not moved for a while: the sweeper resumes them. */
  async stalled(idleMs: number, limit = 50): Promise<SagaRecord[]> {
    const rows = await this.store.query<SagaRow>(
      `SELECT ${SAGA_COLUMNS} FROM lifecycle_sagas
        WHERE status IN ('running', 'compensating') AND (lease_until IS NULL OR lease_until < now())
          AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
        ORDER BY updated_at LIMIT $2`,
      [idleMs, limit],
    );
    return rows.map(toSaga);
  }

  async touch(sagaId: string): Promise<void> {
    await this.store.query('UPDATE lifecycle_sagas SET updated_at = now() WHERE id = $1', [sagaId]);
  }
}
