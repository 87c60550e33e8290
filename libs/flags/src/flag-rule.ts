import { TenantTier } from '@bulkhead/config';

/** A flag's value: JSON scalars (the operator API sets booleans; the table can hold the others). */
export type FlagValue = boolean | number | string;

/** One flag as every instance holds it in memory, compiled from its rows. */
export interface FlagRule {
  readonly id: string;
  readonly key: string;
  readonly description: string;
  readonly defaultValue: FlagValue;
  readonly tierValues: Readonly<Partial<Record<TenantTier, FlagValue>>>;
  readonly rolloutPercent: number | null;
  /** Per-tenant overrides, by tenant id. */
  readonly overrides: ReadonlyMap<string, FlagValue>;
  readonly updatedAt: Date;
}

/** Why a tenant got its value: OpenFeature's `reason` and our `variant`. */
export type FlagReason = 'TARGETING_MATCH' | 'SPLIT' | 'DEFAULT' | 'STATIC';

export interface FlagResolution {
  readonly value: FlagValue;
  readonly reason: FlagReason;
  /** `override`, `tier:<tier>`, `rollout`, `default`. */
  readonly variant: string;
}

const TIER_VARIANT: Record<TenantTier, string> = { free: 'tier:free', pro: 'tier:pro', enterprise: 'tier:enterprise' };

/**
 * A tenant's value: its override, else its tier's value, else the rollout (a boolean default
 * flipped for the tenants whose bucket falls under the percentage), else the default. Pure and
 * allocation-free: it runs on every evaluation.
 */
export function resolveFlag(rule: FlagRule, tenantId: string, tier: TenantTier): FlagValue {
  const override = rule.overrides.get(tenantId);
  if (override !== undefined) return override;
  const tierValue = rule.tierValues[tier];
  if (tierValue !== undefined) return tierValue;
  if (rule.rolloutPercent !== null && typeof rule.defaultValue === 'boolean' && rolloutBucket(rule.key, tenantId) < rule.rolloutPercent) return !rule.defaultValue;
  return rule.defaultValue;
}

/** Like `resolveFlag`, with the reason (for OpenFeature's details and the operator's view). */
export function explainFlag(rule: FlagRule, tenantId: string, tier: TenantTier): FlagResolution {
  const override = rule.overrides.get(tenantId);
  if (override !== undefined) return { value: override, reason: 'TARGETING_MATCH', variant: 'override' };
  const tierValue = rule.tierValues[tier];
  if (tierValue !== undefined) return { value: tierValue, reason: 'TARGETING_MATCH', variant: TIER_VARIANT[tier] };
  if (rule.rolloutPercent !== null && typeof rule.defaultValue === 'boolean') {
    const inside = rolloutBucket(rule.key, tenantId) < rule.rolloutPercent;
    return { value: inside ? !rule.defaultValue : rule.defaultValue, reason: 'SPLIT', variant: inside ? 'rollout' : 'default' };
  }
  return { value: rule.defaultValue, reason: 'STATIC', variant: 'default' };
}

/**
 * The tenant's bucket (0-99) for a flag: FNV-1a of the flag key and the tenant id. Stable across
 * instances and restarts, and independent between flags (a tenant in the first 10% of one rollout
 * is not therefore in the first 10% of every other); raising the percentage only adds tenants.
 */
export function rolloutBucket(flagKey: string, tenantId: string): number {
  let hash = 0x811c9dc5;
  for (let at = 0; at < flagKey.length; at++) hash = Math.imul(hash ^ flagKey.charCodeAt(at), 0x01000193);
  hash = Math.imul(hash ^ 0x3a, 0x01000193);
  for (let at = 0; at < tenantId.length; at++) hash = Math.imul(hash ^ tenantId.charCodeAt(at), 0x01000193);
  return (hash >>> 0) % 100;
}
