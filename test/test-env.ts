/**
 * The test database and settings; applied in every jest worker and in globalSetup.
 * BULKHEAD_TEST_DATABASE names another database (and queue), so two checkouts can run their
 * suites side by side on one machine without dropping each other's database.
 */
const DATABASE = /^[a-z_][a-z0-9_]{0,30}$/.test(process.env.BULKHEAD_TEST_DATABASE ?? '') ? (process.env.BULKHEAD_TEST_DATABASE as string) : 'bulkhead_test';

/**
 * BULKHEAD_TEST_CITUS_URL (a superuser URL of a Citus coordinator, e.g.
 * postgres://postgres@127.0.0.1:5440/postgres) runs the suites against that coordinator instead
 * of the local PostgreSQL; BULKHEAD_TEST_CITUS_WORKERS lists its workers (host:port,...), which
 * globalSetup registers in the fresh test database (bench/citus/citus-cluster.ts, docs/citus.md).
 */
const CITUS_URL = process.env.BULKHEAD_TEST_CITUS_URL ? new URL(process.env.BULKHEAD_TEST_CITUS_URL) : undefined;
const SERVER = CITUS_URL ? `${CITUS_URL.hostname}:${CITUS_URL.port || '5432'}` : '127.0.0.1:5432';

const UNLIMITED = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  DATABASE_URL: `postgres://bulkhead_app:bulkhead_app@${SERVER}/${DATABASE}`,
  DATABASE_OWNER_URL: `postgres://bulkhead_owner:bulkhead_owner@${SERVER}/${DATABASE}`,
  DATABASE_ADMIN_URL: CITUS_URL?.toString() ?? process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  DEV_ISSUER: 'true',
  DEV_ISSUER_KEY_FILE: '.data/test-issuer-key.json',
  AUTH_ISSUER: 'https://issuer.test/',
  AUTH_AUDIENCE: 'bulkhead-test',
  TENANT_BASE_DOMAIN: 'bulkhead.test',
  TENANT_CACHE_TTL_MS: '1000',
  LOG_LEVEL: 'silent',
  JOBS_QUEUE_NAME: DATABASE === 'bulkhead_test' ? 'jobs-test' : `jobs-${DATABASE}`,
  // Two jest workers share one PostgreSQL (max_connections 100): keep each process's budget small.
  DATABASE_CONNECTION_BUDGET: '24',
  SILO_POOL_MAX: '2',
  // CI on a loaded two-core machine, with child API processes starting beside two jest workers, saw
  // a new backend take over 5 s to accept: a slow machine, not an outage, so wait longer for one.
  DATABASE_CONNECT_TIMEOUT_MS: '20000',
  SILO_IDLE_MS: '2000',
  // Longer than the usage recorder's one-second buffer; short, so offboarding suites stay quick.
  LIFECYCLE_FENCE_SETTLE_MS: '1500',
  // Suites that are not about rate limits send far more than a tier's real allowance; the rate
  // limit suites set their own small limits.
  RATE_LIMIT_FREE: UNLIMITED,
  RATE_LIMIT_PRO: UNLIMITED,
  RATE_LIMIT_ENTERPRISE: UNLIMITED,
  // Suites run on a busy shared machine, where the event loop is often saturated by the test
  // itself: the load governor (covered by its own unit test) would hold tenants back at random.
  POOL_SATURATION_UTILISATION: '0',
  // Nothing listens there: a send fails at once. Tests that send start their own stand-in for Stripe.
  BILLING_STRIPE_API_KEY: 'sk_test_bulkhead',
  BILLING_STRIPE_BASE_URL: 'http://127.0.0.1:9',
  // No warm pool unless a suite asks for one: suites that count schemas and databases see only their own.
  LIFECYCLE_WARM_SCHEMAS: '0',
  LIFECYCLE_WARM_SILOS: '0',
  // Suites drive the noisy-neighbour detector minute by minute; no worker runs it on its own clock.
  NOISY_INTERVAL_MS: '0',
  // Suites kill movers on purpose and resume or abort by hand; a worker of another suite must not
  // take those moves over. The resumer's own suite drives its rounds itself.
  MOVES_RESUME_INTERVAL_MS: '0',
};

export function applyTestEnv(): void {
  for (const [key, value] of Object.entries(TEST_ENV)) process.env[key] = value;
}

applyTestEnv();
