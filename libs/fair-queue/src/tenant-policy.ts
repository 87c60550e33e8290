/** At most `max` admissions per `durationMs`, as a token bucket holding up to `max` tokens. */
export interface RateLimit {
  max: number;
  durationMs: number;
}

/**
 * What the scheduler enforces for one tenant. Stored in Redis so every dispatcher and enqueuer
 * sees the same policy; fields left unset fall back to the queue's defaults.
 */
export interface TenantPolicy {
  /** Share of dispatch under contention; a tenant of weight 4 gets 4 turns per turn of weight 1. */
  weight: number;
  /** Jobs admitted and not yet finished (waiting or running in BullMQ); `Infinity` for no cap. */
  maxConcurrency: number;
  /** Admission rate, or `null` for none. */
  rateLimit: RateLimit | null;
  /** Jobs buffered before `enqueue` throws `BacklogFullError`. */
  maxBacklog: number;
}

export const DEFAULT_TENANT_POLICY: TenantPolicy = {
  weight: 1,
  maxConcurrency: Infinity,
  rateLimit: null,
  maxBacklog: 100_000,
};

export function resolvePolicy(base: TenantPolicy, patch: Partial<TenantPolicy>): TenantPolicy {
  const policy: TenantPolicy = { ...base, ...patch };
  assertPolicy(policy);
  return policy;
}

export function assertPolicy(policy: TenantPolicy): void {
  if (!(Number.isFinite(policy.weight) && policy.weight > 0)) throw new RangeError('weight must be a positive number');
  if (!(policy.maxConcurrency >= 1)) throw new RangeError('maxConcurrency must be >= 1 or Infinity');
  if (!(Number.isInteger(policy.maxBacklog) && policy.maxBacklog >= 0)) throw new RangeError('maxBacklog must be an integer >= 0');
  if (policy.rateLimit) {
    const { max, durationMs } = policy.rateLimit;
    if (!(Number.isInteger(max) && max >= 1 && Number.isFinite(durationMs) && durationMs > 0)) {
      throw new RangeError('rateLimit needs an integer max >= 1 and a positive durationMs');
    }
  }
}

/**
 * Redis hash fields, short because Lua reads them on every admission. An absent field means
 * "use the default", so the scripts receive the defaults as arguments and a policy hash only
 * holds overrides. 0 encodes "no cap" / "no rate limit".
 */
export const POLICY_FIELDS = { weight: 'w', maxConcurrency: 'c', rateMax: 'rm', rateMs: 'rd', maxBacklog: 'b' } as const;

export function encodePolicy(patch: Partial<TenantPolicy>): Record<string, string> {
  const out: Record<string, string> = {};
  if (patch.weight !== undefined) out[POLICY_FIELDS.weight] = String(patch.weight);
  if (patch.maxConcurrency !== undefined) {
    out[POLICY_FIELDS.maxConcurrency] = Number.isFinite(patch.maxConcurrency) ? String(patch.maxConcurrency) : '0';
  }
  if (patch.rateLimit !== undefined) {
    out[POLICY_FIELDS.rateMax] = patch.rateLimit ? String(patch.rateLimit.max) : '0';
    out[POLICY_FIELDS.rateMs] = patch.rateLimit ? String(patch.rateLimit.durationMs) : '0';
  }
  if (patch.maxBacklog !== undefined) out[POLICY_FIELDS.maxBacklog] = String(patch.maxBacklog);
  return out;
}

export function decodePolicy(base: TenantPolicy, fields: Record<string, string>): TenantPolicy {
  const num = (field: string): number | undefined => (fields[field] === undefined ? undefined : Number(fields[field]));
  const weight = num(POLICY_FIELDS.weight);
  const cap = num(POLICY_FIELDS.maxConcurrency);
  const rateMax = num(POLICY_FIELDS.rateMax);
  const rateMs = num(POLICY_FIELDS.rateMs);
  const maxBacklog = num(POLICY_FIELDS.maxBacklog);
  return {
    weight: weight ?? base.weight,
    maxConcurrency: cap === undefined ? base.maxConcurrency : cap === 0 ? Infinity : cap,
    rateLimit:
      rateMax === undefined ? base.rateLimit : rateMax === 0 || !rateMs ? null : { max: rateMax, durationMs: rateMs },
    maxBacklog: maxBacklog ?? base.maxBacklog,
  };
}

/** The defaults as the Lua scripts take them: weight, cap (0 = none), rate max, rate ms. */
export function policyDefaultsArgs(policy: TenantPolicy): [string, string, string, string] {
  return [
    String(policy.weight),
    Number.isFinite(policy.maxConcurrency) ? String(policy.maxConcurrency) : '0',
    policy.rateLimit ? String(policy.rateLimit.max) : '0',
    policy.rateLimit ? String(policy.rateLimit.durationMs) : '0',
  ];
}
