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
