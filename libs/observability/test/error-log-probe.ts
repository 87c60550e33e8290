import { loadConfig } from '@bulkhead/config';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { AppLogger } from '../src/app.logger';

/**
 * Logs, through the apps' logger, the errors a failed statement and a failed Redis command really
 * give (PostgreSQL through TypeORM, ioredis), each carrying the personal data it was given, then
 * exits: its own process, since the logger writes to file descriptor 1.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = new AppLogger(config);
  const database = new DataSource({ type: 'postgres', url: config.DATABASE_OWNER_URL });
  await database.initialize();
  const runner = database.createQueryRunner();
  await runner.query('CREATE TEMP TABLE probe_customers (email text CONSTRAINT probe_customers_email_key UNIQUE)');
  await runner.query(`INSERT INTO probe_customers (email) VALUES ('alice@example.com')`);
  // The same duplicate sent as a parameter, then inlined as a literal (as Bulkhead's statements are).
  for (const [text, parameters] of [
    ['INSERT INTO probe_customers (email) VALUES ($1)', ['alice@example.com']],
    [`INSERT INTO probe_customers (email) VALUES ('alice@example.com')`, []],
  ] as const) {
    try {
      await runner.query(text, [...parameters]);
    } catch (error) {
      // Both shapes the apps use, as Nest's Logger passes them on (its context last): fields with
      // `err` and a message, and an error alone.
      logger.error({ err: error, path: '/v1/customers' }, 'request failed', 'Probe');
      logger.error(error, 'Probe');
    }
  }
  await runner.release();
  await database.destroy();
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true });
  await redis.connect();
  try {
    await redis.eval('return redis.error_reply("probe refused")', 1, 'bulkhead:tenant-secret-key', '{"email":"alice@example.com"}');
  } catch (error) {
    logger.warn({ err: error }, 'job enqueue failed', 'Probe');
  } finally {
    redis.disconnect();
  }
  // pino writes asynchronously: let it flush before exiting.
  await new Promise((resolve) => logger.pino.flush(resolve));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(error instanceof Error ? error.stack ?? error.message : String(error));
    process.exit(1);
  },
);
