import { TenantTransaction } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { AuditKeys } from './audit-key-file';
import { AuditKeyRow } from './audit-key.entity';
import { DataKey, open, seal } from './pii-cipher';

/** How long a process keeps a tenant's unwrapped key: a shred elsewhere takes effect here within this. */
const CACHE_MS = 60_000;
const CACHE_MAX = 10_000;
const MAX_KEYS = 100;

/**
 * Each tenant's data keys, kept in the tenant's own placement (`audit_keys`), wrapped with the
 * master key. The oldest seals new entries; one is created on first use inside the caller's
 * transaction (a plain INSERT: two first writers may each add one, and each blob names its key, so
 * even a REPEATABLE READ transaction never conflicts). A key is cached only once read back
 * committed: one created by a transaction that then rolls back must never be used.
 */
@Injectable()
export class TenantKeyring {
  private readonly cache = new Map<string, { key: DataKey | null; until: number }>();

  constructor(private readonly keys: AuditKeys) {}

  /** The key that seals the tenant's new entries, or null once the tenant's keys are shredded. */
  async keyFor(tx: TenantTransaction): Promise<DataKey | null> {
    const hit = this.cache.get(tx.tenantId);
    if (hit && hit.until > Date.now()) return hit.key;
    const repository = tx.repository(AuditKeyRow);
    const rows = await repository.findPage({ limit: MAX_KEYS });
    if (rows.some((row) => row.wrapped === null)) {
      this.remember(tx.tenantId, null);
      return null;
    }
    if (rows.length > 0) {
      const key = { id: rows[0].id, key: open(this.keys.masterKey, tx.tenantId, rows[0].wrapped!) };
      this.remember(tx.tenantId, key);
      return key;
    }
    const created = { id: uuidv7(), key: randomBytes(32) };
    await repository.insert({ id: created.id, wrapped: seal(this.keys.masterKey, tx.tenantId, created.key) });
    return created;
  }

  /** Every key of the tenant as stored now, by id (empty once shredded), never from the cache. */
  async currentKeys(find: () => Promise<AuditKeyRow[]>, tenantId: string): Promise<Map<string, Buffer>> {
    const rows = await find();
    const keys = new Map<string, Buffer>();
    if (rows.some((row) => row.wrapped === null)) return keys;
    for (const row of rows) keys.set(row.id, open(this.keys.masterKey, tenantId, row.wrapped!));
    return keys;
  }

  /** Destroys every key of the tenant for good: its entries' personal data can never be read again. */
  async shred(tx: TenantTransaction): Promise<boolean> {
    const repository = tx.repository(AuditKeyRow);
    const rows = await repository.findPage({ limit: MAX_KEYS });
    this.cache.delete(tx.tenantId);
    if (rows.length === 0) {
      // Never had a key: record the shred, so none is ever created afterwards.
      await repository.insert({ wrapped: null, shreddedAt: new Date() });
      return true;
    }
    const live = rows.filter((row) => row.wrapped !== null);
    for (const row of live) await repository.update(row.id, { wrapped: null, shreddedAt: new Date() });
    return live.length > 0;
  }

  private remember(tenantId: string, key: DataKey | null): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(tenantId, { key, until: Date.now() + CACHE_MS });
  }
}
