import { BulkheadConfig } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { isTenantIdAnyCase } from '@bulkhead/database';
import { LRUCache } from 'lru-cache';
import { TenantRecord } from './tenant.record';
import { TenantRepository } from './tenant.repository';

const ABSENT = Symbol('absent');
type Cached = TenantRecord | typeof ABSENT;

/**
 * Resolves the tenant named by a token, on every authenticated request. Lookups are cached in
 * process (bounded LRU, short TTL) and single-flight, so a burst of requests costs one query; an
 * unknown tenant is cached too, so forged tenant ids cannot turn into a query flood. Changes are
 * announced to every instance (TenantChangeFeed); the TTL bounds staleness if a message is missed.
 */
@Injectable()
export class TenantRegistry {
  private readonly cache: LRUCache<string, Cached>;

  constructor(
    private readonly tenants: TenantRepository,
    private readonly config: BulkheadConfig,
  ) {
    this.cache = new LRUCache<string, Cached>({
      max: 10_000,
      ttl: Math.max(config.TENANT_CACHE_TTL_MS, 1),
      fetchMethod: (key) => this.load(key),
      // forget() deletes the key, and by default that aborts an in-flight lookup: every request awaiting
      // it rejects with "deleted" (an opaque 500). Let the lookup answer its waiters instead; the deleted
      // entry is not re-cached, so the next request still loads the changed tenant.
      ignoreFetchAbort: true,
    });
  }

  /** The tenant a token's tenant claim refers to, or null. Never guesses. */
  async resolveClaim(claim: string): Promise<TenantRecord | null> {
    if (this.config.AUTH_TENANT_CLAIM_REFERS_TO === 'id' && !isTenantIdAnyCase(claim)) return null;
    const kind = this.config.AUTH_TENANT_CLAIM_REFERS_TO;
    const key = `${kind}:${kind === 'id' ? claim.toLowerCase() : claim}`;
    if (this.config.TENANT_CACHE_TTL_MS === 0) return this.load(key).then((found) => (found === ABSENT ? null : found));
    const found = await this.cache.fetch(key);
    return found === undefined || found === ABSENT ? null : found;
  }

  async findById(id: string): Promise<TenantRecord | null> {
    if (!isTenantIdAnyCase(id)) return null;
    return this.tenants.findById(id);
  }

  /** By id through this instance's cache (TENANT_CACHE_TTL_MS, dropped by the change feed): for checks made often. */
  async findCachedById(id: string): Promise<TenantRecord | null> {
    if (!isTenantIdAnyCase(id)) return null;
    const key = `id:${id.toLowerCase()}`;
    const found = this.config.TENANT_CACHE_TTL_MS === 0 ? await this.load(key) : await this.cache.fetch(key);
    return found === undefined || found === ABSENT ? null : found;
  }

  /** Drops what this instance knows of a tenant after an operator changed it. */
  forget(tenant: Pick<TenantRecord, 'id' | 'externalRef'>): void {
    this.cache.delete(`id:${tenant.id.toLowerCase()}`);
    if (tenant.externalRef) this.cache.delete(`external_ref:${tenant.externalRef}`);
  }

  private async load(key: string): Promise<Cached> {
    const separator = key.indexOf(':');
    const kind = key.slice(0, separator);
    const value = key.slice(separator + 1);
    const found = kind === 'id' ? await this.tenants.findById(value) : await this.tenants.findByExternalRef(value);
    return found ?? ABSENT;
  }
}
