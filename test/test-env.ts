/**
 * The test database and settings; applied in every jest worker and in globalSetup.
 * BULKHEAD_TEST_DATABASE names another database (and queue), so two checkouts can run their
 * suites side by side on one machine without dropping each other's database.
 */
const DATABASE = /^[a-z_][a-z0-9_]{0,30}$/.test(process.env.BULKHEAD_TEST_DATABASE ?? '') ? (process.env.BULKHEAD_TEST_DATABASE as string) : 'bulkhead_test';

const UNLIMITED = 'read:6000000,write:6000000,export:6000000,ingest:6000000';

const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  DATABASE_URL: `postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/${DATABASE}`,
  DATABASE_OWNER_URL: `postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/${DATABASE}`,
  DATABASE_ADMIN_URL: process.env.DATABASE_ADMIN_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres',
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
  SILO_IDLE_MS: '2000',
  // Suites that are not about rate limits send far more than a tier's real allowance; the rate
  // limit suites set their own small limits.
  RATE_LIMIT_FREE: UNLIMITED,
  RATE_LIMIT_PRO: UNLIMITED,
  RATE_LIMIT_ENTERPRISE: UNLIMITED,
  // Nothing listens there: a send fails at once. Tests that send start their own stand-in for Stripe.
  BILLING_STRIPE_API_KEY: 'sk_test_bulkhead',
  BILLING_STRIPE_BASE_URL: 'http://127.0.0.1:9',
  // Suites drive the noisy-neighbour detector minute by minute; no worker runs it on its own clock.
  NOISY_INTERVAL_MS: '0',
};

export function applyTestEnv(): void {
  for (const [key, value] of Object.entries(TEST_ENV)) process.env[key] = value;
}

applyTestEnv();
