import pino from 'pino';

/**
 * Properties of driver errors that carry the data a statement or command was given, never how it
 * failed: TypeORM's `query` and `parameters` (Bulkhead inlines values as literals, so the text holds
 * them too), PostgreSQL's `detail` ("Key (email)=(...) already exists"), `where` and
 * `internalQuery`, and ioredis's `command.args` (keys that name tenants, job data).
 */
const DATA_KEYS = new Set(['query', 'parameters', 'detail', 'where', 'internalQuery', 'args']);

/**
 * pino's `err` serializer without the values of a failed statement or command: a log line keeps the
 * error's class, message, stack, SQLSTATE, constraint, table and column, and (for Redis) the
 * command's name, enough to find the fault, but no tenant's data (a customer's e-mail, a job's
 * payload) reaches the log store. Nested errors (TypeORM's `driverError`, aggregated errors) are
 * cut the same way.
 */
export function errorLogSerializer(error: unknown): unknown {
  return withoutData(pino.stdSerializers.err(error as Error), 0);
}

/** The prototype of pino's serialized errors (it keeps `raw`, the original error, out of the line). */
const SERIALIZED_ERROR = Object.getPrototypeOf(pino.stdSerializers.err(new Error())) as object;

function withoutData(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // Deeper than any driver nests its errors: left out rather than logged unfiltered.
  if (depth > 4) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => withoutData(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as object | null;
  // A Date, a Buffer or the like is a value, not a container of the statement's data.
  if (prototype !== SERIALIZED_ERROR && prototype !== Object.prototype && prototype !== null) return value;
  const kept = Object.create(prototype) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) {
    if (!DATA_KEYS.has(key)) kept[key] = withoutData(item, depth + 1);
  }
  return kept;
}
