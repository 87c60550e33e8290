import { TenantTransaction } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AuditKeys } from './audit-key-file';
import { AuditKeyRow } from './audit-key.entity';
import { open, seal } from './pii-cipher';

/** How long a process keeps a tenant's unwrapped key: a shred elsewhere takes effect here within this. */
const CACHE_MS = 60_000;
const CACHE_MAX = 10_000;

/**
 * Each tenant's data key, kept in the tenant's own placement (`audit_keys`), wrapped with the
 * master key. Created on first use inside the caller's transaction; cached only once read back
 * committed (a key created by a transaction that then rolls back must never be used).
 */
@Injectable()
export class TenantKeyring {
  private readonly cache = new Map<string, { key: Buffer | null; until: number }>();

  constructor(private readonly keys: AuditKeys) {}

  /** The tenant's data key, or null once it has been shredded. */
  async keyFor(tx: TenantTransaction): Promise<Buffer | null> {
    const hit = this.cache.get(tx.tenantId);
    if (hit && hit.until > Date.now()) return hit.key;
    const repository = tx.repository(AuditKeyRow);
    let row = await repository.findOneBy({});
    const committed = row !== null;
    if (!row) {
      await repository.insertIfAbsent({ wrapped: seal(this.keys.masterKey, tx.tenantId, randomBytes(32)) });
      row = await repository.findOneBy({});
    }
    const key = row?.wrapped ? open(this.keys.masterKey, tx.tenantId, row.wrapped) : null;
    if (committed) this.remember(tx.tenantId, key);
    return key;
  }

  /** The key as stored now, never from the cache (reads that decrypt must see a shred at once). */
  async currentKey(find: () => Promise<AuditKeyRow | null>, tenantId: string): Promise<Buffer | null> {
    const row = await find();
    return row?.wrapped ? open(this.keys.masterKey, tenantId, row.wrapped) : null;
  }

  /** Destroys the tenant's key for good: its entries' personal data can never be read again. */
  async shred(tx: TenantTransaction): Promise<boolean> {
    const repository = tx.repository(AuditKeyRow);
    const row = await repository.findOneBy({});
    this.cache.delete(tx.tenantId);
    if (!row) {
      // Never had a key: record the shred so no key is ever created afterwards.
      await repository.insertIfAbsent({ wrapped: null, shreddedAt: new Date() });
      return true;
    }
    if (!row.wrapped) return false;
    await repository.update(row.id, { wrapped: null, shreddedAt: new Date() });
    return true;
  }

  private remember(tenantId: string, key: Buffer | null): void {
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(tenantId, { key, until: Date.now() + CACHE_MS });
  }
}
