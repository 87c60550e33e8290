/** The shapes of the operator API's answers the console reads (see the OpenAPI document at /docs). */
export interface Tenant {
  id: string;
  slug: string;
  name: string;
  tier: string;
  isolation: string;
  status: string;
  region: string;
  externalRef: string | null;
  cluster: string;
  schemaName: string | null;
  databaseName: string | null;
  dataVersion: number;
  createdAt: string;
  updatedAt: string;
}

export interface Page<T> {
  items: T[];
  next: string | null;
}

export interface SagaStep {
  step: string;
  status: string;
  attempts: number;
  failures: number;
  lastError: string | null;
  details: Record<string, unknown>;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface Saga {
  id: string;
  kind: string;
  status: string;
  reason: string | null;
  startedBy: string;
  createdAt: string;
  finishedAt: string | null;
  steps: SagaStep[];
}

export interface Placement {
  isolation: string;
  cluster: string;
  schemaName: string | null;
  databaseName: string | null;
}

export interface Move {
  id: string;
  phase: string;
  source: Placement;
  target: Placement;
  error: string | null;
  progress: Record<string, unknown>;
  createdAt: string;
  switchedAt: string | null;
  finishedAt: string | null;
}

export interface ClassCounts {
  read: number;
  write: number;
  export: number;
  ingest: number;
}

export interface RequestCounts {
  from: string;
  to: string;
  admitted: ClassCounts;
  refused: ClassCounts;
  minutes: Array<{ minute: string; admitted: ClassCounts; refused: ClassCounts }>;
}

export interface Flag {
  id: string;
  key: string;
  description: string;
  defaultValue: boolean;
  rolloutPercent: number | null;
  overrides: Array<{ tenantId: string; value: boolean }>;
}

export interface TenantJobs {
  tenant: string;
  backlog: number;
  inFlight: number;
  oldestWaitMs: number;
  paused: boolean;
  /** Held by its own state (suspended or provisioning, or its database unreachable for a while), apart from an operator's pause. */
  held: boolean;
  parked: boolean;
  policy: Record<string, unknown>;
}

export interface AuditEntry {
  id: string;
  seq: string | null;
  at: string;
  action: string;
  outcome: string;
  actor: Record<string, unknown>;
  status: number | null;
  code: string | null;
}

export interface Grant {
  grantId: string;
  operator: string;
  mode: string;
  issuedAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

export interface IssuedGrant {
  grant: string;
  id: string;
  mode: string;
  expiresAt: string;
}

export const STATUSES = ['provisioning', 'active', 'suspended', 'deleted'];
export const TIERS = ['free', 'pro', 'enterprise'];
export const MODELS = ['pool', 'schema', 'silo'];

/** `GET /v1/admin/fleet`. */
export interface Fleet {
  dataVersion: number;
  placements: Array<{ cluster: string; model: string; current: number; behind: number }>;
  behind: Array<{ id: string; slug: string; cluster: string; model: string; status: string; dataVersion: number }>;
  warmPool: Array<{ cluster: string; model: string; status: string; dataVersion: number; count: number }>;
}

/** `GET /v1/admin/usage/tenants/:id`. */
export interface TenantQuotas {
  tenantId: string;
  tier: string;
  at: string;
  meters: Array<{
    meter: string;
    aggregation: string;
    unit: string;
    origin: string;
    per: string;
    periodStart: string;
    resetsAt: string;
    used: string;
    quota: number | null;
    share: number | null;
    state: 'no_quota' | 'ok' | 'warning' | 'blocked' | 'over';
  }>;
}

/** `GET /v1/admin/tenants/:id/rate-limits`. */
export interface TenantRateLimits {
  tenantId: string;
  tier: string;
  windowSeconds: number;
  throttleFactor: number | null;
  inMemory: boolean;
  classes: Array<{
    routeClass: string;
    tierLimit: number;
    limit: number;
    outageLimit: number;
    remaining: number | null;
    resetSeconds: number | null;
    admittedThisMinute: number | null;
    refusedThisMinute: number | null;
  }>;
}

export interface PoolCounts {
  total: number;
  idle: number;
  waiting: number;
  max: number;
}

export interface Instance {
  id: string;
  scope: 'instance';
}

/** `GET /v1/admin/tenants/:id/connections`: the answering API instance's counts. */
export interface TenantConnections {
  tenantId: string;
  instance: Instance;
  gate: { pool: string; inUse: number; waiting: number; limit: number; capWhileOthersWait: number; maxQueue: number; capacity: number; poolInUse: number };
  pool: PoolCounts | null;
}

/** `GET /v1/admin/connections`: the answering API instance's pools. */
export interface FleetConnections {
  instance: Instance;
  shared: Array<{ cluster: string; pool: PoolCounts }>;
  silos: { open: number; connections: number; maxConnections: number; poolMax: number };
  gate: {
    active: { shared: number; silo: number };
    waiting: { shared: number; silo: number };
    tenants: number;
    heldBack: { shared: number; silo: number };
    shed: { excess: number; timeout: number };
  };
}

/** `POST /v1/admin/tenants/:id/audit/verify`, `POST /v1/admin/audit/verify`. */
export interface AuditVerify {
  ok: boolean;
  chains: Array<{ tenantId: string; placement: string; entries: number; lastSeq: string; ok: boolean; firstBadSeq: string | null; problem: string | null; checkpoint: { seq: string; matches: boolean } | null }>;
  checkpoints: 'read' | 'absent' | 'not_configured';
  invalidCheckpoints: number;
  verifiedAt: string;
  durationMs: number;
}

/** `GET /v1/admin/jobs`. */
export interface JobsOverview {
  totals: Record<string, unknown>;
  queues: Array<{ name: string; states: Record<string, number> }>;
  tenants: TenantJobs[];
}
