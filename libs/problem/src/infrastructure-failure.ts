/**
 * Recognises a failure to reach PostgreSQL or Redis, as opposed to an error in the request or in
 * our code. It is the one classification both the HTTP mapping (503 + Retry-After instead of 500)
 * and the job worker (wait the outage out instead of spending an attempt) rely on, so the two can
 * never disagree. It duck-types the drivers' errors (pg, pg-pool, TypeORM's QueryFailedError,
 * ioredis, BullMQ), so this lib depends on none of them.
 */

/** Socket-level failures from Node, on connect or mid-conversation. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/**
 * SQLSTATEs that mean the server or the connection is going away, not that the statement is wrong:
 * class 08 (connection exception), 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
 * connect now ("the database system is starting up / shutting down"), 53300 too many connections.
 * 08P01 (protocol violation) only when FATAL, as PgBouncer sends it for its own failures (the
 * server behind it unreachable, a client waiting too long for a server connection): PostgreSQL
 * answers it as an ERROR to a statement given the wrong number of parameters, a bug that waiting
 * would never cure (a job parked for ever, a 503 for a 500).
 */
const SQLSTATE = /^(08(?!P01)[0-9A-Z]{3}|57P0[123]|53300)$/;

/** pg and pg-pool report a lost or timed-out connection with a message and no code. */
const PG_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/**
 * ioredis (and BullMQ through it) when Redis is down or a command outlived its timeout; the last
 * is a pipelined command whose pipeline had begun to be answered when the connection closed (its
 * error is named AbortError, as an AbortSignal's is, so it is known by its message).
 */
const REDIS_MESSAGES = ['Connection is closed.', 'Command timed out', "Stream isn't writeable", 'Command aborted due to connection close'];
const REDIS_ERROR_NAMES = new Set(['MaxRetriesPerRequestError', 'ConnectionClosedError']);

/**
 * Raised by our own code when a backing service cannot be reached at all (`@bulkhead/database`),
 * or when a tenant's write waited out its move's fence without the move switching
 * (`placement_moving`, @bulkhead/control-plane): a job then waits too, spending no attempt.
 */
const TRANSIENT_CODES = new Set(['service_unreachable', 'placement_moving']);

export function isInfrastructureFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, name, message, severity } = error as { code?: unknown; name?: unknown; message?: unknown; severity?: unknown };
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATE.test(code) || TRANSIENT_CODES.has(code))) return true;
  if (code === '08P01' && severity === 'FATAL') return true;
  if (typeof name === 'string' && REDIS_ERROR_NAMES.has(name)) return true;
  if (typeof message === 'string' && [...PG_MESSAGES, ...REDIS_MESSAGES].some((known) => message.startsWith(known))) return true;
  // TypeORM wraps the driver's error; Node wraps one per address tried (AggregateError); others set `cause`.
  const { driverError, cause, errors } = error as { driverError?: unknown; cause?: unknown; errors?: unknown };
  if (isInfrastructureFailure(driverError, depth + 1) || isInfrastructureFailure(cause, depth + 1)) return true;
  return Array.isArray(errors) && errors.some((nested) => isInfrastructureFailure(nested, depth + 1));
}

/** 42P01 undefined_table, 42703 undefined_column: the statement names what this database lacks. */
const BEHIND_CODE = new Set(['42P01', '42703']);

/**
 * A statement that failed because the database's schema is older than the code: on a tenant's
 * placement, its migrations have not run yet. Not an infrastructure failure (jobs should not
 * wait on it forever), not the caller's fault either.
 */
export function isSchemaBehindCode(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const driver = (error as { driverError?: { code?: unknown } }).driverError;
  const code = driver?.code ?? (error as { code?: unknown }).code;
  return typeof code === 'string' && BEHIND_CODE.has(code) && 'severity' in (driver ?? error);
}
