/**
 * Raised when PostgreSQL or Redis cannot be reached at all. Its message is one sentence a new
 * user can act on, so entry points print it instead of a stack trace.
 */
export class ServiceUnreachableError extends Error {
  readonly code = 'service_unreachable';

  constructor(service: 'PostgreSQL' | 'Redis', target: string) {
    super(
      `${service} is not reachable at ${target}. Start it with \`docker compose up -d\` ` +
        `(or start your local ${service} service) and check ${service === 'PostgreSQL' ? 'the DATABASE_*_URL settings' : 'REDIS_URL'}.`,
    );
    this.name = 'ServiceUnreachableError';
  }
}

const CONNECTION_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ECONNRESET']);

export function isConnectionFailure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION_FAILURES.has(code)) return true;
  const nested = (error as { errors?: unknown }).errors;
  return Array.isArray(nested) && nested.some(isConnectionFailure);
}

export function hostOf(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || (parsed.protocol.startsWith('redis') ? '6379' : '5432')}`;
  } catch {
    return 'the configured address';
  }
}
