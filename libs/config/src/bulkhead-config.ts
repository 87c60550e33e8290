import { plainToInstance, Transform } from 'class-transformer';
import {
  IsNumber,
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  validateSync,
} from 'class-validator';

import { ClusterSettings, parseClusters } from './cluster-settings';
import { DEFAULT_RATE_LIMITS, parseTierRateLimits, RATE_LIMIT_SETTINGS, TierRateLimits } from './rate-limit-settings';
import { IsolationModel, TENANT_TIERS, TenantTier } from './tenant-tiers';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));
const toBool = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : value === true || value === 'true' || value === '1';
const toList = ({ value }: { value: unknown }) =>
  typeof value === 'string' ? value.split(',').map((part) => part.trim()).filter(Boolean) : value;

const POSTGRES_URL = /^postgres(ql)?:\/\/[^\s]+$/;
const REDIS_URL = /^rediss?:\/\/[^\s]+$/;

/**
 * Every setting the platform reads, validated once at start; structured settings are parsed then
 * too (`tierIsolation`, `jobsTierWeights`, `clusters`), so no consumer parses a string again. Defaults exist only where a local
 * developer machine needs them; nothing security-relevant defaults to open (the development
 * token issuer is off unless DEV_ISSUER=true).
 */
export class BulkheadConfig {
  @IsIn(['development', 'test', 'production'])
  NODE_ENV: 'development' | 'test' | 'production' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** Every interface by default, as in a container; `127.0.0.1` keeps the API to this machine. */
  @IsString()
  HOST = '0.0.0.0';

  @Matches(POSTGRES_URL, { message: 'DATABASE_URL must be a postgres:// URL for the runtime role' })
  DATABASE_URL = 'postgres://bulkhead_app:bulkhead_app@127.0.0.1:5432/bulkhead';

  @Matches(POSTGRES_URL, { message: 'DATABASE_OWNER_URL must be a postgres:// URL for the owner role that runs migrations' })
  DATABASE_OWNER_URL = 'postgres://bulkhead_owner:bulkhead_owner@127.0.0.1:5432/bulkhead';

  @Matches(POSTGRES_URL, { message: 'DATABASE_ADMIN_URL must be a postgres:// URL for a role that may create roles and databases' })
  DATABASE_ADMIN_URL = 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(500)
  DATABASE_POOL_MAX = 10;

  /**
   * How long a request waits for a new runtime connection (shared pool or silo) before it is
   * answered 503: a server that accepts sockets but cannot start backends must not hold requests.
   */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(120_000)
  DATABASE_CONNECT_TIMEOUT_MS = 5000;

  @Matches(REDIS_URL, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /**
   * Seed nodes of a Redis Cluster, `host:port,host:port,...`: when set, every Redis client is a
   * cluster client (REDIS_URL then only lends its username, password and TLS).
   */
  @IsOptional()
  @Matches(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, { message: 'REDIS_CLUSTER_NODES must be host:port[,host:port...]' })
  REDIS_CLUSTER_NODES?: string;

  @IsString()
  @Matches(/^\S+$/, { message: 'AUTH_ISSUER must be the exact iss claim your identity provider signs' })
  AUTH_ISSUER = 'http://localhost:3000/';

  @IsString()
  @Matches(/^\S+$/, { message: 'AUTH_AUDIENCE must be the exact aud claim tokens are issued for' })
  AUTH_AUDIENCE = 'bulkhead-api';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'AUTH_JWKS_URI must be an http(s) URL of a JSON Web Key Set' })
  AUTH_JWKS_URI?: string;

  /**
   * How long a fetched key set is trusted: a key the provider has dropped stops verifying tokens
   * at most this long after it disappeared (at once if a refresh in between sees the change).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  AUTH_JWKS_MAX_AGE_MS = 60_000;

  /** Least time between two fetches of the key set, whatever triggers them (unknown kids included). */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60_000)
  AUTH_JWKS_COOLDOWN_MS = 5000;

  @Transform(toList)
  @IsArray()
  @ArrayNotEmpty()
  @IsIn(['RS256', 'ES256'], { each: true, message: 'AUTH_ALGORITHMS may only list RS256 and ES256' })
  AUTH_ALGORITHMS: Array<'RS256' | 'ES256'> = ['RS256', 'ES256'];

  @Matches(/^[A-Za-z_][A-Za-z0-9_:./-]{0,127}$/, { message: 'AUTH_TENANT_CLAIM must be a claim name such as tenant_id or org_id' })
  AUTH_TENANT_CLAIM = 'tenant_id';

  @IsIn(['id', 'external_ref'], { message: 'AUTH_TENANT_CLAIM_REFERS_TO must be id (the tenant uuid) or external_ref (e.g. an Auth0 org_id)' })
  AUTH_TENANT_CLAIM_REFERS_TO: 'id' | 'external_ref' = 'id';

  @Matches(/^[A-Za-z0-9_:./-]{1,128}$/, { message: 'AUTH_OPERATOR_SCOPE must be a single scope value' })
  AUTH_OPERATOR_SCOPE = 'bulkhead:operator';

  @Transform(toBool)
  @IsBoolean()
  DEV_ISSUER = false;

  @IsString()
  DEV_ISSUER_KEY_FILE = '.data/dev-issuer-key.json';

  @IsOptional()
  @Matches(/^([a-z0-9-]+\.)+[a-z0-9-]+$/, { message: 'TENANT_BASE_DOMAIN must be a lower-case domain such as bulkhead.localhost' })
  TENANT_BASE_DOMAIN?: string;

  /** Cluster main's region and new tenants' default; the deployment serves every region it has a cluster in. */
  @Matches(/^[a-z0-9-]{2,32}$/, { message: 'REGION must be a region key such as local or eu-west-1' })
  REGION = 'local';

  /**
   * Extra database clusters as JSON: {"<key>": {"region": "...", "url": "<runtime url>",
   * "ownerUrl": "<owner url>"}}. The cluster `main` (DATABASE_URL, DATABASE_OWNER_URL, REGION)
   * always exists.
   */
  @IsOptional()
  @IsString()
  DATABASE_CLUSTERS?: string;

  @Matches(/^free:(pool|schema|silo),pro:(pool|schema|silo),enterprise:(pool|schema|silo)$/, {
    message: 'TENANT_TIER_ISOLATION must look like free:pool,pro:schema,enterprise:silo',
  })
  TENANT_TIER_ISOLATION = 'free:pool,pro:schema,enterprise:silo';

  @Transform(toInt)
  @IsInt()
  @Min(4)
  @Max(10_000)
  DATABASE_CONNECTION_BUDGET = 80;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  SILO_POOL_MAX = 5;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  SILO_IDLE_MS = 60_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  TENANT_MAX_CONNECTIONS = 4;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  TENANT_MAX_QUEUE = 256;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  POOL_QUEUE_BUDGET_MS = 1000;

  /**
   * Event-loop utilisation (0-1) above which the busiest tenants of a contended pool are held to
   * fewer connections, so the process keeps room for everyone else's requests; 0 turns it off.
   */
  @Transform(({ value }) => (value === undefined || value === '' ? value : Number(value)))
  @IsNumber()
  @Min(0)
  @Max(1)
  POOL_SATURATION_UTILISATION = 0.85;

  @Matches(/^free:\d+(\.\d+)?,pro:\d+(\.\d+)?,enterprise:\d+(\.\d+)?$/, {
    message: 'POOL_TIER_WEIGHTS must look like free:1,pro:2,enterprise:4',
  })
  POOL_TIER_WEIGHTS = 'free:1,pro:2,enterprise:4';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60000)
  TENANT_CACHE_TTL_MS = 5000;

  @Matches(/^[A-Za-z0-9_-]{1,64}$/, { message: 'JOBS_QUEUE_NAME must be 1-64 letters, digits, _ or -' })
  JOBS_QUEUE_NAME = 'jobs';

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  JOBS_WORKER_CONCURRENCY = 16;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  JOBS_ADMISSION_WINDOW = 64;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  JOBS_TENANT_MAX_CONCURRENCY = 4;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  JOBS_TENANT_MAX_BACKLOG = 10_000;

  /** Runs of a job that may fail for real (not counting waits for an outage) before it fails for good. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  JOBS_ATTEMPTS = 5;

  /** First wait after a real failure; doubles with each further one. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  JOBS_RETRY_BACKOFF_MS = 1000;

  /** First wait after a job met an unreachable PostgreSQL or Redis; doubles up to JOBS_OUTAGE_BACKOFF_MAX_MS. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  JOBS_OUTAGE_BACKOFF_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  JOBS_OUTAGE_BACKOFF_MAX_MS = 30_000;

  @Matches(/^free:\d+(\.\d+)?,pro:\d+(\.\d+)?,enterprise:\d+(\.\d+)?$/, {
    message: 'JOBS_TIER_WEIGHTS must look like free:1,pro:2,enterprise:4',
  })
  JOBS_TIER_WEIGHTS = 'free:1,pro:2,enterprise:4';

  /** Requests per minute per route class for tenants of each tier (parsed into `rateLimits`). */
  @IsString()
  RATE_LIMIT_FREE = DEFAULT_RATE_LIMITS.free;

  @IsString()
  RATE_LIMIT_PRO = DEFAULT_RATE_LIMITS.pro;

  @IsString()
  RATE_LIMIT_ENTERPRISE = DEFAULT_RATE_LIMITS.enterprise;

  /**
   * API processes sharing the limits. Only read while Redis is unreachable: each process then
   * enforces 1/N of every limit on its own, so the fleet stays near the shared limit.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1000)
  RATE_LIMIT_API_INSTANCES = 1;

  /** A rate-limit call to Redis slower than this is decided by the in-process limiter instead. */
  @Transform(toInt)
  @IsInt()
  @Min(5)
  @Max(5000)
  RATE_LIMIT_REDIS_TIMEOUT_MS = 100;

  /**
   * How long a lease of requests granted to one API instance lasts: a tenant busy on an instance
   * is admitted there without a Redis round trip per request, up to its demand over this long.
   * 0: every request is decided in Redis.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5000)
  RATE_LIMIT_LEASE_MS = 100;

  /** How long the per-tenant, per-minute request counts are kept in Redis. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(24 * 35)
  REQUEST_COUNTS_RETENTION_HOURS = 48;
  @IsString()
  AUDIT_KEY_FILE = '.data/audit-keys.json';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  AUDIT_CHECKPOINT_INTERVAL_MS = 60000;

  /** How long after a write its (pending) audit entry waits to be chained with the tenant's others. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60_000)
  AUDIT_CHAIN_DELAY_MS = 250;

  /**
   * Refused requests (401, 403, failed writes) waiting in a process to be written to the audit
   * trail; past it they are only counted, and the count is recorded. Bounds what a flood of bad
   * tokens during a PostgreSQL outage can hold in memory. Operator actions have a queue of their
   * own, never crowded out by refusals.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AUDIT_REFUSALS_MAX_PENDING = 10_000;

  @IsOptional()
  @IsString()
  AUDIT_CHECKPOINT_FILE?: string;

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'AUDIT_CHECKPOINT_URL must be an http(s) URL' })
  AUDIT_CHECKPOINT_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  AUDIT_QUERY_AUDIT_INTERVAL_MS = 3_600_000;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(3600)
  AUDIT_IMPERSONATION_MAX_SECONDS = 900;

  /**
   * The longest chain the operator API verifies in a request (`POST .../audit/verify`); a longer
   * one is refused (422) and left to `bulkhead audit verify`, which has no such bound.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  AUDIT_VERIFY_HTTP_MAX_ENTRIES = 2_000_000;

  /** Schemas kept created and migrated ahead of signups, per cluster (the warm pool; 0: none). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1000)
  LIFECYCLE_WARM_SCHEMAS = 4;

  /** Silo databases kept created and migrated ahead of signups, per cluster (0: none). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  LIFECYCLE_WARM_SILOS = 2;

  /** How often the worker refills the warm pool, resumes stalled sagas and delivers lifecycle events. */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(3_600_000)
  LIFECYCLE_SWEEP_MS = 2000;

  /** How long a saga run holds its saga without renewing; a killed runner's saga is resumed after this. */
  @Transform(toInt)
  @IsInt()
  @Min(200)
  @Max(3_600_000)
  LIFECYCLE_LEASE_MS = 15_000;

  /** Real failures of one step before its saga fails for good and runs its compensations. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  LIFECYCLE_STEP_ATTEMPTS = 3;

  /** Days an offboarded tenant can still be restored before it is erased. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3650)
  LIFECYCLE_GRACE_DAYS = 30;

  /**
   * The least time between an offboarding's fence and its export, and its erasure, whatever the
   * grace period: work admitted before the fence (a request already past the tenant guard, usage
   * counters each instance buffers for a second) lands before anything is exported, erased and
   * counted. Best effort: keep it above ten times POOL_QUEUE_BUDGET_MS and TENANT_CACHE_TTL_MS (the
   * default, 15 s, is above both at their defaults: 10 s and 5 s).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  LIFECYCLE_FENCE_SETTLE_MS = 15_000;

  /** Signups one client address may submit per minute (`POST /v1/signup`). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  SIGNUP_RATE_LIMIT_PER_MINUTE = 10;

  /** The tier a self-serve signup gets. */
  @IsIn(TENANT_TIERS)
  SIGNUP_TIER: TenantTier = 'free';

  /**
   * Meters the ingest API accepts (`POST /v1/usage/events`), besides those the modules record
   * themselves: `name:aggregation[:property[:unit]]`, comma-separated.
   */
  @Matches(/^\s*$|^[a-z][a-z0-9_.-]{0,63}:(count|sum|max|unique_count|latest)(:[A-Za-z_][A-Za-z0-9_]{0,63}(:[A-Za-z0-9_ .-]{1,32})?)?(,[a-z][a-z0-9_.-]{0,63}:(count|sum|max|unique_count|latest)(:[A-Za-z_][A-Za-z0-9_]{0,63}(:[A-Za-z0-9_ .-]{1,32})?)?)*$/, {
    message: 'METERING_INGEST_METERS must look like compute.seconds:sum:seconds:seconds,active.users:unique_count:user_id:users',
  })
  METERING_INGEST_METERS = 'api.calls:count,compute.seconds:sum:seconds:seconds,storage.bytes:max:bytes:bytes,active.users:unique_count:user_id:users,seats:latest:seats:seats';

  /**
   * Quotas per tier: `tier:meter=limit/period|meter=limit/period;tier:...`, period `day` or `month`
   * (UTC); a tier left out or listed with nothing has no quota.
   */
  @Matches(/^\s*$|^(free|pro|enterprise):([a-z][a-z0-9_.-]{0,63}=\d{1,15}\/(day|month)(\|[a-z][a-z0-9_.-]{0,63}=\d{1,15}\/(day|month))*)?(;(free|pro|enterprise):([a-z][a-z0-9_.-]{0,63}=\d{1,15}\/(day|month)(\|[a-z][a-z0-9_.-]{0,63}=\d{1,15}\/(day|month))*)?)*$/, {
    message: 'METERING_PLANS must look like free:orders.created=1000/month|exports.requested=10/day;pro:orders.created=100000/month',
  })
  METERING_PLANS = 'free:orders.created=1000/month|exports.requested=10/day;pro:orders.created=100000/month|exports.requested=1000/day;enterprise:';

  /** Tenant moves: how long the old placement stays, read-only, after the switch before it is dropped. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  MOVES_GRACE_MS = 300_000;

  /**
   * Tenant moves: how long the mover waits for the tenant's writes in flight to finish when it raises
   * the write fence; past it the fence is lowered, the mover catches up again and retries. Bounds
   * how long a tenant's new writes can queue behind a slow transaction of its own.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  MOVES_FENCE_WAIT_MS = 1000;

  /**
   * Tenant moves: the share of the time the mover works outside the write fence (copy, catch-up,
   * dropping a pool source's rows); after each batch it rests for the rest. A move at full speed
   * takes the database and the API's cores from every other tenant in bursts; 1 is full speed.
   */
  @Transform(({ value }) => (value === undefined || value === '' ? value : Number(value)))
  @IsNumber()
  @Min(0.05)
  @Max(1)
  MOVES_DUTY_CYCLE = 0.25;

  /**
   * Tenant moves: how often the worker looks for moves whose mover died (its process killed or
   * redeployed mid-move) and resumes them; 0 turns it off (a move then waits for an operator to ask
   * for it again). An orphaned move otherwise keeps capturing the tenant's writes until resumed.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  MOVES_RESUME_INTERVAL_MS = 10_000;

  /**
   * Tenant moves: how long a move must have gone without progress, and without a mover holding
   * it, before the worker resumes it: an operator resuming it by hand meanwhile is not raced.
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  MOVES_RESUME_AFTER_MS = 60_000;

  /**
   * Tenant moves: the longest the catch-up runs before the mover raises the write fence whatever
   * is left to apply. A tenant writing faster than the catch-up applies would otherwise keep its
   * move catching up for ever; the fence then holds its writes while it applies the rest.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(86_400_000)
  MOVES_CATCH_UP_MAX_MS = 600_000;

  /** Tenant moves: rows per batch of the copy and the catch-up. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  MOVES_BATCH_ROWS = 2000;

  /** How often the worker reconciles every tenant's meters for the current and previous billing period. */
  @Transform(toInt)
  @IsInt()
  @Min(10_000)
  @Max(86_400_000)
  METERING_RECONCILE_INTERVAL_MS = 3_600_000;

  /** Where the billing sender posts meter events (the Stripe API, or a stand-in for tests). */
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'BILLING_STRIPE_BASE_URL must be an http(s) URL' })
  BILLING_STRIPE_BASE_URL = 'https://api.stripe.com';

  /** The Stripe secret key the sender uses; without it `billing send` refuses to run. */
  @IsOptional()
  @IsString()
  BILLING_STRIPE_API_KEY?: string;

  @Matches(/^\d+(b|kb|mb)$/, { message: 'BODY_LIMIT must look like 100kb' })
  BODY_LIMIT = '100kb';

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  // --- Operating per tenant: metrics, traces, the tenant cache, flags, noisy neighbours ---

  /** Record the request metrics (one onResponse hook); `/metrics` is served either way (METRICS_TOKEN), and pool, gate and job gauges are read at scrape time. */
  @Transform(toBool)
  @IsBoolean()
  METRICS_ENABLED = true;

  /**
   * Where the operator console's built assets are (`npm run build` writes them): `/console`
   * serves them; without them it answers 503 `console_not_built`.
   */
  @IsString()
  CONSOLE_ASSETS_DIR = 'dist/console';

  /**
   * The console's OpenID Connect client id (a public client: authorization code with PKCE, no
   * secret) at AUTH_ISSUER; without it the console offers only the development login, and only
   * while DEV_ISSUER is on.
   */
  @IsOptional()
  @Matches(/^[\x21-\x7e]{1,200}$/, { message: 'CONSOLE_OIDC_CLIENT_ID must be 1-200 printable characters' })
  CONSOLE_OIDC_CLIENT_ID?: string;

  /** The scopes the console asks for, space-separated (default `openid` and AUTH_OPERATOR_SCOPE); the token must carry AUTH_OPERATOR_SCOPE. */
  @IsOptional()
  @Matches(/^[\x21-\x7e]+( [\x21-\x7e]+)*$/, { message: 'CONSOLE_OIDC_SCOPE must be scopes separated by single spaces' })
  CONSOLE_OIDC_SCOPE?: string;

  /** The bearer token a Prometheus scrape of `/metrics` must carry; without it `/metrics` answers 404. */
  @IsOptional()
  @Matches(/^[\x21-\x7e]{16,200}$/, { message: 'METRICS_TOKEN must be 16-200 printable characters' })
  METRICS_TOKEN?: string;

  /** How many of the heaviest tenants the `bulkhead_tenant_heaviest_*` gauges name (the only metric with a tenant label). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  METRICS_HEAVY_TENANTS = 10;

  /** Record OpenTelemetry traces (HTTP, pg, ioredis) and send them to OTEL_EXPORTER_OTLP_ENDPOINT. */
  @Transform(toBool)
  @IsBoolean()
  TRACING_ENABLED = false;

  /** The share of new traces recorded (parent-based: a continued trace keeps its parent's decision). */
  @Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value)))
  @Min(0)
  @Max(1)
  TRACING_SAMPLE_RATIO = 0.1;

  /** How long an entry of the tenant cache's in-process tier is trusted (invalidations also reach every instance at once over pub/sub). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(60_000)
  CACHE_LOCAL_TTL_MS = 1000;

  /** Entries the tenant cache's in-process tier holds, across all tenants. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  CACHE_LOCAL_MAX_ENTRIES = 10_000;

  /** The longest an entry of the tenant cache lives in Redis (a longer TTL is cut to this). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  CACHE_MAX_TTL_MS = 86_400_000;

  /** A tenant using more than this many times the median tenant's usage in a minute is noisy. */
  @Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value)))
  @Min(1)
  NOISY_RATIO = 2;

  /** How often the worker checks for a newly complete minute to run the noisy-neighbour detector over (0: never). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  NOISY_INTERVAL_MS = 5000;

  /** Tenants with usage in the minute needed before anyone is compared with the median. */
  @Transform(toInt)
  @IsInt()
  @Min(2)
  NOISY_MIN_TENANTS = 3;

  /** Consecutive noisy minutes before a tenant is flagged (1: at once). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(60)
  NOISY_CONSECUTIVE_MINUTES = 1;

  /** Where a flagged noisy tenant is announced (POST, JSON); none: no webhook. */
  @IsOptional()
  @Matches(/^https?:\/\/[^\s]+$/, { message: 'NOISY_WEBHOOK_URL must be an http(s) URL' })
  NOISY_WEBHOOK_URL?: string;

  /** While flagged, a noisy tenant's request rate limits are multiplied by this (1: no throttling). */
  @Transform(({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value)))
  @Min(0.01)
  @Max(1)
  NOISY_THROTTLE_FACTOR = 1;

  /** TENANT_TIER_ISOLATION, parsed. */
  declare readonly tierIsolation: Readonly<Record<TenantTier, IsolationModel>>;
  /** POOL_TIER_WEIGHTS, parsed. */
  declare readonly poolTierWeights: Readonly<Record<TenantTier, number>>;
  /** JOBS_TIER_WEIGHTS, parsed. */
  declare readonly jobsTierWeights: Readonly<Record<TenantTier, number>>;
  /** BODY_LIMIT in bytes. */
  declare readonly bodyLimitBytes: number;
  /** RATE_LIMIT_FREE, RATE_LIMIT_PRO, RATE_LIMIT_ENTERPRISE, parsed: requests per minute by tier and route class. */
  declare readonly rateLimits: Readonly<Record<TenantTier, TierRateLimits>>;
  /** Cluster `main` first, then DATABASE_CLUSTERS, parsed and checked. */
  declare readonly clusters: readonly ClusterSettings[];
  /** REDIS_CLUSTER_NODES, parsed; null for a single Redis at REDIS_URL. */
  declare readonly redisClusterNodes: ReadonlyArray<{ readonly host: string; readonly port: number }> | null;
}

function tierMap<V>(setting: string, value: (text: string) => V): Record<TenantTier, V> {
  return Object.fromEntries(setting.split(',').map((pair) => pair.split(':')).map(([tier, text]) => [tier, value(text)])) as Record<TenantTier, V>;
}

function bytesOf(setting: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/.exec(setting) as RegExpExecArray;
  return Number(amount) * { b: 1, kb: 1024, mb: 1024 * 1024 }[unit as 'b' | 'kb' | 'mb'];
}

export class ConfigError extends Error {
  readonly code = 'invalid_configuration';
}

/** Parses and validates the environment; throws one error naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BulkheadConfig {
  const known = Object.keys(new BulkheadConfig());
  const input: Record<string, unknown> = {};
  for (const key of new Set([...known, 'AUTH_JWKS_URI', 'TENANT_BASE_DOMAIN', 'DATABASE_CLUSTERS', 'REDIS_CLUSTER_NODES', 'AUDIT_CHECKPOINT_FILE', 'AUDIT_CHECKPOINT_URL', 'BILLING_STRIPE_API_KEY', 'NOISY_WEBHOOK_URL', 'METRICS_TOKEN', 'CONSOLE_OIDC_CLIENT_ID', 'CONSOLE_OIDC_SCOPE'])) {
    if (env[key] !== undefined && env[key] !== '') input[key] = env[key];
  }
  const config = plainToInstance(BulkheadConfig, input, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, forbidUnknownValues: true });
  const lines = errors.flatMap((error) => Object.values(error.constraints ?? {}).map((text) => `  - ${error.property}: ${text}`));
  const { clusters, problems } = parseClusters(
    { key: 'main', region: config.REGION, url: config.DATABASE_URL, ownerUrl: config.DATABASE_OWNER_URL, adminUrl: config.DATABASE_ADMIN_URL },
    config.DATABASE_CLUSTERS,
  );
  lines.push(...problems.map((text) => `  - ${text}`));
  if (config.JOBS_OUTAGE_BACKOFF_MAX_MS < config.JOBS_OUTAGE_BACKOFF_MS) {
    lines.push('  - JOBS_OUTAGE_BACKOFF_MAX_MS: must be at least JOBS_OUTAGE_BACKOFF_MS');
  }
  if (config.AUTH_JWKS_COOLDOWN_MS * 2 > config.AUTH_JWKS_MAX_AGE_MS) {
    // The set is refreshed in the background from half its max age on; a longer cooldown would
    // let it expire first and make every request wait for the fetch.
    lines.push('  - AUTH_JWKS_COOLDOWN_MS: must be at most half of AUTH_JWKS_MAX_AGE_MS');
  }
  const rateLimits = {} as Record<TenantTier, TierRateLimits>;
  for (const tier of TENANT_TIERS) {
    const setting = RATE_LIMIT_SETTINGS[tier];
    const parsed = parseTierRateLimits(setting, (config as unknown as Record<string, string>)[setting]);
    if (parsed.problem) lines.push(`  - ${parsed.problem}`);
    else if (parsed.limits) rateLimits[tier] = parsed.limits;
  }
  if (lines.length > 0) throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  Object.assign(config, {
    tierIsolation: Object.freeze(tierMap(config.TENANT_TIER_ISOLATION, (model) => model as IsolationModel)),
    jobsTierWeights: Object.freeze(tierMap(config.JOBS_TIER_WEIGHTS, Number)),
    poolTierWeights: Object.freeze(tierMap(config.POOL_TIER_WEIGHTS, (weight) => Math.max(Number(weight), 0.01))),
    bodyLimitBytes: bytesOf(config.BODY_LIMIT),
    clusters: Object.freeze(clusters.map((cluster) => Object.freeze(cluster))),
    rateLimits: Object.freeze(rateLimits),
    redisClusterNodes: config.REDIS_CLUSTER_NODES
      ? Object.freeze(config.REDIS_CLUSTER_NODES.split(',').map((node) => Object.freeze({ host: node.slice(0, node.lastIndexOf(':')), port: Number(node.slice(node.lastIndexOf(':') + 1)) })))
      : null,
  });
  return Object.freeze(config);
}
