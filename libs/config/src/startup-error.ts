/**
 * Known start-up failures (bad configuration, PostgreSQL or Redis down, an unsafe database role)
 * are one actionable sentence on stderr, not a stack trace.
 */
export function exitWithStartupError(error: unknown): never {
  const code = (error as { code?: unknown }).code;
  const known = ['invalid_configuration', 'service_unreachable', 'unsafe_database_role'];
  const text = error instanceof Error && typeof code === 'string' && known.includes(code) ? error.message : String((error as Error)?.stack ?? error);
  process.stderr.write(`bulkhead: ${text}\n`);
  process.exit(1);
}
