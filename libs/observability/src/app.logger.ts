import { BulkheadConfig } from '@bulkhead/config';
import { peekRequestId, peekTenantId } from '@bulkhead/tenancy';
import { traceLogFields } from '@bulkhead/tracing';
import { Injectable, LoggerService } from '@nestjs/common';
import pino, { Logger as Pino } from 'pino';
import { errorLogSerializer } from './error-log.serializer';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * Nest's logger, as structured JSON through pino. Every line written inside a request or job
 * carries its tenant id and request id, read from the unit of work at the moment of writing, and
 * (with tracing on) its trace and span ids.
 * Lines are written asynchronously (pino flushes what is pending on exit), and lines logged while
 * a write is under way go out together with the next one: a synchronous write per access line
 * would put a blocking system call on every request.
 */
@Injectable()
export class AppLogger implements LoggerService {
  readonly pino: Pino;

  constructor(config: BulkheadConfig) {
    this.pino = pino(
      {
        level: config.LOG_LEVEL,
        mixin: () => {
          const tenantId = peekTenantId();
          const requestId = peekRequestId();
          const fields = tenantId ? { tenantId, requestId } : requestId ? { requestId } : {};
          // With tracing on, every line also names its trace and span (sampled or not).
          const trace = traceLogFields();
          return trace ? { ...fields, ...trace } : fields;
        },
        // A failed statement's or command's values stay out of the line (see errorLogSerializer).
        serializers: { err: errorLogSerializer },
        redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]'], censor: '[redacted]' },
      },
      pino.destination({ dest: 1, sync: false }),
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /**
   * Nest calls `level(message, ...params, context)`: the context (the logger's name) comes last.
   * `message` may be an object of fields, an Error, or text; a string after an object is its message.
   */
  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      const text = typeof rest[0] === 'string' ? (rest.shift() as string) : undefined;
      this.pino[level]({ context, ...(message as Record<string, unknown>) }, text);
    } else {
      // Nest's own error(message, stack, context): a second string is the stack.
      const stack = level === 'error' && typeof rest[0] === 'string' ? rest.shift() : undefined;
      this.pino[level]({ context, ...(stack ? { stack } : {}) }, String(message));
    }
  }
}
