import { DataSource, ObjectLiteral, QueryFailedError, QueryRunnerAlreadyReleasedError } from 'typeorm';
import { QueryResult } from 'typeorm/query-runner/QueryResult';
import { BroadcasterResult } from 'typeorm/subscriber/BroadcasterResult';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { IsolationLevel } from 'typeorm/driver/types/IsolationLevel';
import { isSafeSearchPath, isTenantId } from '@bulkhead/database';
import { TenantBoundaryViolationError } from './boundary.errors';
import { engineOf, tenantSettingSql } from './tenant-setting';

/** Statements that change data: a transaction that ran one has something for its commit hooks to record. */
const WRITE_STATEMENT = /^\s*(INSERT|UPDATE|DELETE|MERGE)\b/i;

const MAX_NOTED_CREATED = 20;

const ISOLATION_LEVELS = new Set<IsolationLevel>(['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']);

export interface TenantRunnerScope {
  readonly tenantId: string;
  readonly searchPath?: string;
  readonly readOnly?: boolean;
}

/**
 * A query runner bound to one tenant for one transaction. Its transaction opens with the tenant
 * (and search path, for the schema model) set transaction-locally (`tenantSettingSql`: set_config
 * on PostgreSQL, bulkhead_set_tenant on Citus) in the very same message as START TRANSACTION, and
 * that opening is not sent on its own: it travels in front of the transaction's first statement
 * when that statement carries no bind parameters (a compiled insert, a COMMIT with its prelude),
 * so a transaction that inserts a row and commits makes two round trips instead of three. Nothing
 * survives COMMIT or ROLLBACK on the pooled connection, and no statement ever runs before the
 * opening. The values are inlined (SET cannot take bind parameters, and a multi-statement message
 * cannot either), so they are validated against strict patterns first.
 */
export class TenantQueryRunner extends PostgresQueryRunner {
  /** The error that broke this runner's connection, if one did (see `query`). */
  private connectionLost: Error | undefined;
  private readonly onConnectionError = (error: Error) => {
    this.connectionLost ??= error;
  };
  /** Whether this transaction has sent a statement that changes data. */
  wrote = false;
  /** START TRANSACTION and the tenant's settings, not sent yet: they go with the first statement. */
  private opening: string | undefined;
  /** Statements (literals only) sent in the COMMIT message itself, before COMMIT: no extra round trip. */
  private readonly commitPrelude: string[] = [];
  /** Rows this transaction created through a scoped repository, first ones only (for the audit entry's resource). */
  readonly created: Array<{ readonly table: string; readonly id: string }> = [];
  /** Callbacks run once the outermost COMMIT has succeeded (never after a rollback). */
  private readonly committed: Array<() => void> = [];
  /**
   * For each open SAVEPOINT, how many queued statements and callbacks there were when it began:
   * rolling back to it drops what was queued since, as the database drops what it wrote since.
   * The savepoint opened at depth d (TypeORM's `transactionDepth` after it) is at index d - 2, so
   * the marks follow the depth even when a RELEASE fails and the savepoint is then rolled back.
   */
  private readonly savepointMarks: Array<{ prelude: number; committed: number }> = [];

  private constructor(
    driver: PostgresDriver,
    readonly scope: TenantRunnerScope,
  ) {
    super(driver, 'master');
    this.data = { tenantId: scope.tenantId };
  }

  static create(dataSource: DataSource, scope: TenantRunnerScope): TenantQueryRunner {
    checkScope(scope);
    const runner = new TenantQueryRunner(dataSource.driver as PostgresDriver, scope);
    Object.assign(runner, { manager: dataSource.createEntityManager(runner) });
    return runner;
  }

  override async connect(): Promise<unknown> {
    const connecting = !this.databaseConnection;
    const connection = (await super.connect()) as { on(event: 'error', listener: (error: Error) => void): void };
    if (connecting) connection.on('error', this.onConnectionError);
    return connection;
  }

  /**
   * When the server drops the connection between two statements (a restart, an admin shutdown),
   * TypeORM releases the runner at once and the next statement (often COMMIT) would fail with an
   * opaque QueryRunnerAlreadyReleasedError. Report the connection failure that caused it instead,
   * so it is recognised as an outage (503, job retried without spending an attempt), not a bug.
   */
  override async query(query: string, parameters?: unknown[], useStructuredResult?: boolean): Promise<any> {
    this.assertConnectionKept();
    if (this.wrote || !WRITE_STATEMENT.test(query)) return this.send(query, parameters, useStructuredResult);
    const result = (await this.send(query, parameters, true)) as QueryResult;
    // A write that matched no row changed nothing: an update or delete of a row this tenant does
    // not have is refused (404) after its transaction, which has nothing for the trail.
    if (result.affected === undefined || result.affected === null || result.affected > 0) this.wrote = true;
    return useStructuredResult ? result : result.raw;
  }

  private async send(query: string, parameters: unknown[] | undefined, useStructuredResult: boolean | undefined): Promise<any> {
    if (this.opening !== undefined) {
      // Nothing was sent: there is nothing to commit or roll back.
      if (query === 'COMMIT' || query === 'ROLLBACK') {
        this.opening = undefined;
        return undefined;
      }
      if (!parameters || parameters.length === 0) return this.queryAfterOpening(query, useStructuredResult ?? false);
      // Bind parameters need a message of their own (the extended protocol's): the opening goes first.
      await this.queryAfterOpening(undefined, false);
      // The connection may have dropped right after the opening's answer.
      this.assertConnectionKept();
      return super.query(query, parameters, useStructuredResult);
    }
    return super.query(query, parameters, useStructuredResult);
  }

  /** Released because the server dropped the connection: that failure, not TypeORM's opaque one. */
  private assertConnectionKept(): void {
    if (this.isReleased && this.connectionLost) throw this.connectionLost;
  }

  /**
   * `query` sent in one message behind the transaction's opening (or the opening alone), answered
   * as TypeORM answers a statement (the same events, logging, result shape and QueryFailedError):
   * the opening's own results are dropped. The opening stays pending until the message is on its
   * way: a failure before that (no connection, a listener throwing) leaves it for the next
   * statement, so none ever runs without it. Once sent, should the message fail anywhere, the
   * transaction is open or was never opened; either way the caller's rollback (sent, since the
   * opening is no longer pending) leaves the connection clean.
   */
  private async queryAfterOpening(query: string | undefined, useStructuredResult: boolean): Promise<any> {
    this.assertConnectionKept();
    if (this.isReleased) throw new QueryRunnerAlreadyReleasedError();
    const opening = this.opening as string;
    const logged = query ?? opening;
    const connection = (await this.connect()) as PgClient;
    this.driver.connection.logger.logQuery(logged, undefined, this);
    await this.broadcaster.broadcast('BeforeQuery', logged, undefined);
    const broadcasterResult = new BroadcasterResult();
    try {
      const started = Date.now();
      this.opening = undefined;
      const results = await connection.query(query === undefined ? opening : `${opening}; ${query}`);
      const raw = Array.isArray(results) ? results[results.length - 1] : results;
      this.broadcaster.broadcastAfterQueryEvent(broadcasterResult, logged, undefined, true, Date.now() - started, raw, undefined);
      const result = new QueryResult();
      result.records = raw.rows;
      result.affected = raw.rowCount ?? undefined;
      result.raw = raw.command === 'DELETE' || raw.command === 'UPDATE' ? [raw.rows, raw.rowCount] : raw.rows;
      return useStructuredResult ? result : result.raw;
    } catch (error) {
      this.driver.connection.logger.logQueryError(error as Error, logged, undefined, this);
      this.broadcaster.broadcastAfterQueryEvent(broadcasterResult, logged, undefined, false, undefined, undefined, error);
      throw new QueryFailedError(logged, undefined, error as Error);
    } finally {
      await broadcasterResult.wait();
    }
  }

  override async release(): Promise<void> {
    (this.databaseConnection as { removeListener?(event: 'error', listener: (error: Error) => void): void } | undefined)?.removeListener?.(
      'error',
      this.onConnectionError,
    );
    return super.release();
  }

  override async startTransaction(isolationLevel?: IsolationLevel): Promise<void> {
    // Nested transactions (SAVEPOINTs) inherit the outer transaction's settings.
    if (this.transactionDepth > 0) {
      const depth = this.transactionDepth;
      const mark = { prelude: this.commitPrelude.length, committed: this.committed.length };
      try {
        await super.startTransaction(isolationLevel);
      } finally {
        // Also when a listener of the start threw after the SAVEPOINT was taken: the depth is up.
        if (this.transactionDepth > depth) this.savepointMarks[this.transactionDepth - 2] = mark;
      }
      return;
    }
    if (isolationLevel !== undefined && !ISOLATION_LEVELS.has(isolationLevel)) {
      throw new TenantBoundaryViolationError('unknown isolation level');
    }
    this.isTransactionActive = true;
    try {
      await this.broadcaster.broadcast('BeforeTransactionStart');
    } catch (error) {
      this.isTransactionActive = false;
      throw error;
    }
    const mode = [isolationLevel ? `ISOLATION LEVEL ${isolationLevel}` : '', this.scope.readOnly ? 'READ ONLY' : '']
      .filter(Boolean)
      .join(' ');
    try {
      const engine = engineOf(this.connection);
      const settings = tenantSettingSql(typeof engine === 'string' ? engine : await engine, this.scope);
      this.opening = `START TRANSACTION ${mode}; SELECT ${settings}`;
    } catch (error) {
      this.isTransactionActive = false;
      throw error;
    }
    this.transactionDepth += 1;
    await this.broadcaster.broadcast('AfterTransactionStart');
  }

  /**
   * Queues a statement to travel in the same message as the outermost COMMIT. It must carry no
   * bind parameters (a multi-statement message cannot); should it fail, COMMIT is skipped, the
   * transaction is rolled back and the error reaches the caller: the statement and the
   * transaction's writes commit together or not at all. One queued inside a SAVEPOINT that is
   * then rolled back is dropped with it.
   */
  beforeCommit(statement: string): void {
    if (!this.isTransactionActive) throw new TenantBoundaryViolationError('no transaction to commit with');
    this.commitPrelude.push(statement);
  }

  /**
   * Runs `callback` after the outermost COMMIT succeeds (not after a SAVEPOINT's release, never
   * after a rollback): for work that must only follow a durable write, outside its transaction.
   */
  noteCreated(table: string, id: unknown): void {
    if (typeof id === 'string' && this.created.length < MAX_NOTED_CREATED) this.created.push({ table, id });
  }

  afterCommit(callback: () => void): void {
    if (!this.isTransactionActive) throw new TenantBoundaryViolationError('no transaction to follow');
    this.committed.push(callback);
  }

  override async commitTransaction(): Promise<void> {
    const outermost = this.transactionDepth === 1;
    if (!outermost || this.commitPrelude.length === 0 || !this.isTransactionActive) {
      await super.commitTransaction();
      // A released SAVEPOINT's statements and callbacks now belong to the transaction around it
      // (forgotten only once RELEASE succeeded: after a failed one it is rolled back, with its mark).
      this.savepointMarks.length = Math.max(0, this.transactionDepth - 1);
    } else {
      await this.broadcaster.broadcast('BeforeTransactionCommit');
      const prelude = this.commitPrelude.splice(0);
      this.savepointMarks.length = 0;
      await this.query(`${prelude.join(';\n')};\nCOMMIT`);
      this.isTransactionActive = false;
      this.transactionDepth -= 1;
      await this.broadcaster.broadcast('AfterTransactionCommit');
    }
    if (outermost) for (const callback of this.committed.splice(0)) callback();
  }

  override async rollbackTransaction(): Promise<void> {
    if (this.transactionDepth <= 1) {
      this.commitPrelude.length = 0;
      this.committed.length = 0;
      this.savepointMarks.length = 0;
    } else {
      const mark = this.savepointMarks[this.transactionDepth - 2];
      if (mark) {
        this.commitPrelude.length = mark.prelude;
        this.committed.length = mark.committed;
      }
      this.savepointMarks.length = this.transactionDepth - 2;
    }
    return super.rollbackTransaction();
  }

  /**
   * Returns the connection to the pool as broken, so the pool destroys it instead of lending out
   * a session in an unknown state (for instance after a failed ROLLBACK).
   */
  async discard(error: unknown): Promise<void> {
    await (this as unknown as { releasePostgresConnection(err: unknown): Promise<void> }).releasePostgresConnection(error);
  }

  /**
   * One SELECT with the tenant set, in one round trip and one implicit transaction: the message
   * `SELECT set_config(...); <query>` carries no bind parameters, so its values come inlined as
   * literals. A failure anywhere rolls the whole message back and leaves nothing set on the
   * connection. It borrows a pooled connection directly, without a query runner: on the hottest
   * path of all, the runner and its entity manager cost more than the round trip.
   */
  static async readOnce(dataSource: DataSource, scope: TenantRunnerScope, sql: string): Promise<ObjectLiteral[]> {
    checkScope(scope);
    const engine = engineOf(dataSource);
    const settings = tenantSettingSql(typeof engine === 'string' ? engine : await engine, scope);
    const driver = dataSource.driver as PostgresDriver;
    const [connection, release] = (await driver.obtainMasterConnection()) as [PgClient, (error?: unknown) => void];
    // While it is checked out the pool does not listen to it. The server's FATAL message of a
    // shutdown can arrive in the same packet as the answer, after the query is done and before the
    // release: without a listener that is an unhandled 'error' event, which ends the process.
    let lost: Error | undefined;
    const onError = (error: Error): void => {
      lost ??= error;
    };
    connection.on('error', onError);
    let results: Array<{ rows: ObjectLiteral[] }> | { rows: ObjectLiteral[] };
    try {
      results = await connection.query(`SELECT ${settings}; ${sql}`);
    } catch (error) {
      // A connection that failed mid-message is destroyed, not lent out again.
      connection.removeListener('error', onError);
      release(error);
      throw error;
    }
    connection.removeListener('error', onError);
    // The answer is whole; a connection the server ended meanwhile is destroyed, not lent out again.
    release(lost);
    if (!Array.isArray(results) || results.length !== 2) throw new TenantBoundaryViolationError('readOnce expects exactly one statement');
    return results[1].rows;
  }
}

interface PgResult {
  rows: ObjectLiteral[];
  rowCount: number | null;
  command: string;
}

interface PgClient {
  query(text: string): Promise<PgResult[] | PgResult>;
  on(event: 'error', listener: (error: Error) => void): void;
  removeListener(event: 'error', listener: (error: Error) => void): void;
}

function checkScope(scope: TenantRunnerScope): void {
  if (!isTenantId(scope.tenantId)) throw new TenantBoundaryViolationError('tenant id is not a canonical uuid');
  if (scope.searchPath !== undefined && !isSafeSearchPath(scope.searchPath)) {
    throw new TenantBoundaryViolationError('search path is not a list of safe schema identifiers');
  }
}

