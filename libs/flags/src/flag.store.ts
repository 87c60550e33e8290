import { BulkheadConfig, TENANT_TIERS, TenantTier } from '@bulkhead/config';
import { withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import type { Client } from 'pg';
import { FlagRule, FlagValue } from './flag-rule';

/** What the operator sets on a flag (everything but its overrides). */
export interface FlagDefinition {
  readonly description: string;
  readonly defaultValue: FlagValue;
  readonly tierValues: Partial<Record<TenantTier, FlagValue>>;
  readonly rolloutPercent: number | null;
}

interface FlagRow {
  id: string;
  key: string;
  description: string;
  default_value: FlagValue;
  tier_values: Record<string, FlagValue>;
  rollout_percent: number | null;
  updated_at: Date;
}

const FOREIGN_KEY_VIOLATION = '23503';
const UNIQUE_VIOLATION = '23505';

/**
 * The flags table in the control database, as the runtime role. Reads load the whole catalogue
 * (a full reload per change: flags are few and change rarely); each call opens and closes its own
 * connection, so flags never take one of the tenant pools' connections.
 */
@Injectable()
export class FlagStore {
  constructor(private readonly config: BulkheadConfig) {}

  async loadAll(): Promise<FlagRule[]> {
    return this.with(async (client) => {
      const flags = await client.query<FlagRow>('SELECT id, key, description, default_value, tier_values, rollout_percent, updated_at FROM feature_flags ORDER BY key');
      const overrides = await client.query<{ flag_id: string; tenant: string; value: FlagValue }>('SELECT flag_id, tenant, value FROM feature_flag_overrides');
      const byFlag = new Map<string, Map<string, FlagValue>>();
      for (const row of overrides.rows) {
        const map = byFlag.get(row.flag_id) ?? new Map<string, FlagValue>();
        map.set(row.tenant, row.value);
        byFlag.set(row.flag_id, map);
      }
      return flags.rows.map((row) => ruleOf(row, byFlag.get(row.id) ?? new Map()));
    });
  }

  /** Creates the flag and returns its id; undefined when one with this key exists. */
  async create(key: string, definition: FlagDefinition): Promise<string | undefined> {
    return this.with(async (client) => {
      try {
        const created = await client.query<{ id: string }>('INSERT INTO feature_flags (key, description, default_value, tier_values, rollout_percent) VALUES ($1, $2, $3, $4, $5) RETURNING id', [
          key,
          definition.description,
          JSON.stringify(definition.defaultValue),
          JSON.stringify(definition.tierValues),
          definition.rolloutPercent,
        ]);
        return created.rows[0].id;
      } catch (error) {
        if ((error as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
        throw error;
      }
    });
  }

  /** Replaces the flag's definition; false when there is no such flag. */
  async replace(id: string, definition: FlagDefinition): Promise<boolean> {
    return this.with(async (client) => {
      const result = await client.query(
        'UPDATE feature_flags SET description = $2, default_value = $3, tier_values = $4, rollout_percent = $5, updated_at = now() WHERE id = $1',
        [id, definition.description, JSON.stringify(definition.defaultValue), JSON.stringify(definition.tierValues), definition.rolloutPercent],
      );
      return (result.rowCount ?? 0) > 0;
    });
  }

  async remove(id: string): Promise<boolean> {
    return this.with(async (client) => ((await client.query('DELETE FROM feature_flags WHERE id = $1', [id])).rowCount ?? 0) > 0);
  }

  /** Sets a tenant's override: `flag` when the flag is missing, `tenant` when the tenant is. */
  async override(id: string, tenantId: string, value: FlagValue): Promise<'ok' | 'flag' | 'tenant' | 'erased'> {
    return this.with(async (client) => {
      try {
        // Not for an erased tenant: its record stays (the foreign key holds), its overrides went with its erasure.
        const written = await client.query(
          `INSERT INTO feature_flag_overrides (flag_id, tenant, value)
           SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM tenants WHERE id = $2 AND status = 'deleted')
           ON CONFLICT (flag_id, tenant) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
          [id, tenantId, JSON.stringify(value)],
        );
        return written.rowCount ? 'ok' : 'erased';
      } catch (error) {
        if ((error as { code?: string }).code !== FOREIGN_KEY_VIOLATION) throw error;
        return (error as { constraint?: string }).constraint?.includes('flag_id') ? 'flag' : 'tenant';
      }
    });
  }

  /** Removes a tenant's override (none is fine); false when there is no such flag. */
  async removeOverride(id: string, tenantId: string): Promise<boolean> {
    return this.with(async (client) => {
      await client.query('DELETE FROM feature_flag_overrides WHERE flag_id = $1 AND tenant = $2', [id, tenantId]);
      return ((await client.query('SELECT 1 FROM feature_flags WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  /** How many overrides name the tenant (offboarding counts them before and after erasure). */
  async overridesOf(tenantId: string): Promise<number> {
    return this.with(async (client) => Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM feature_flag_overrides WHERE tenant = $1', [tenantId])).rows[0].n));
  }

  /** Deletes every override of the tenant; answers how many. */
  async deleteOverridesOf(tenantId: string): Promise<number> {
    return this.with(async (client) => (await client.query('DELETE FROM feature_flag_overrides WHERE tenant = $1', [tenantId])).rowCount ?? 0);
  }

  private with<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-flags', work);
  }
}

function ruleOf(row: FlagRow, overrides: Map<string, FlagValue>): FlagRule {
  const tierValues: Partial<Record<TenantTier, FlagValue>> = {};
  for (const tier of TENANT_TIERS) if (row.tier_values[tier] !== undefined) tierValues[tier] = row.tier_values[tier];
  return Object.freeze({
    id: row.id,
    key: row.key,
    description: row.description,
    defaultValue: row.default_value,
    tierValues: Object.freeze(tierValues),
    rolloutPercent: row.rollout_percent,
    overrides,
    updatedAt: row.updated_at,
  });
}
