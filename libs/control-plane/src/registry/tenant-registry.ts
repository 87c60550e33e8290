import { BulkheadConfig } from '@bulkhead/config';
import { Injectable } from '@nestjs/common';
import { isTenantIdAnyCase } from '@bulkhead/database';
import { isInfrastructureFailure } from '@bulkhead/problem';
import { LRUCache } from 'lru-cache';
import { TenantErasedProblem, TenantNotFoundProblem } from './registry.errors';
import { TenantRecord } from './tenant.record';
import { TenantRepository } from './tenant.repository';

const ABSENT = Symbol('absent');
/**
 * However often polls vouch for it, an entry is looked up again once this old: a change the poll
 * cannot see (a commit long after its update, a trigger bypassed by hand) is then still enforced
 * within a minute. With 2,000 tenants in turn that is ~33 lookups a second, not 400.
 */
const MAX_VOUCHED_AGE_MS = 60_000;
type Cached = TenantRecord | typeof ABSENT;

interface Entry {
  readonly value: Cached;
  /** When its lookup was sent (performance.now()): the entry is at least as new as that. */
  readonly loadedAt: number;
}

/**
 * Resolves the tenant named by a token, on every authenticated request. Lookups are cached in
 * process (bounded LRU) and single-flight, so a burst of requests costs one query; an unknown
 * tenant is cached too, so forged tenant ids cannot turn into a query flood. Changes are announced
 * to every instance (TenantChangeFeed), and what an announcement missed the feed's poll finds:
 * each poll that answers vouches for every entry loaded before it was sent (`confirm`), so a
 * cached tenant is reloaded when it changed or once a minute old, not every TENANT_CACHE_TTL_MS
 * (with 2,000 tenants in turn, that was 400 lookups a second). An entry nobody vouched for in
 * TENANT_CACHE_TTL_MS (the poll failing, or no feed in this process) is looked up again: staleness
 * stays bounded by the TTL whatever fails.
 */
@Injectable()
export class TenantRegistry {
  private readonly cache: LRUCache<string, Entry>;
  /** When the last poll that answered was sent (performance.now()). */
  private confirmedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly tenants: TenantRepository,
    private readonly config: BulkheadConfig,
  ) {
    this.cache = new LRUCache<string, Entry>({
      max: 10_000,
      fetchMethod: async (key) => {
        const loadedAt = performance.now();
        return { value: await this.load(key), loadedAt };
      },
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
    const found = await this.cached(key);
    return found === ABSENT ? null : found;
  }

  async findById(id: string): Promise<TenantRecord | null> {
    if (!isTenantIdAnyCase(id)) return null;
    return this.tenants.findById(id);
  }

  /** By id through this instance's cache (TENANT_CACHE_TTL_MS, dropped by the change feed): for checks made often. */
  async findCachedById(id: string): Promise<TenantRecord | null> {
    if (!isTenantIdAnyCase(id)) return null;
    const key = `id:${id.toLowerCase()}`;
    const found = this.config.TENANT_CACHE_TTL_MS === 0 ? await this.load(key) : await this.cached(key);
    return found === ABSENT ? null : found;
  }

  /**
   * For operator routes about a tenant's runtime state, which must keep working on Redis alone
   * through a PostgreSQL outage: 404 for no such tenant, 410 once it is erased (they would write back keys the
   * erasure removed, or read zeros as if it were quiet); an unreadable registry refuses nothing.
   */
  async assertOperable(id: string): Promise<void> {
    const found = await this.readableRecord(id);
    if (found === null) throw new TenantNotFoundProblem();
    if (found?.status === 'deleted') throw new TenantErasedProblem();
  }

  /** The record, null for none, undefined when the registry cannot be read. */
  private readableRecord(id: string): Promise<TenantRecord | null | undefined> {
    return this.findCachedById(id).catch((error: unknown) => {
      if (isInfrastructureFailure(error)) return undefined;
      throw error;
    });
  }

  /** Drops what this instance knows of a tenant after an operator changed it. */
  forget(tenant: Pick<TenantRecord, 'id' | 'externalRef'>): void {
    this.cache.delete(`id:${tenant.id.toLowerCase()}`);
    if (tenant.externalRef) this.cache.delete(`external_ref:${tenant.externalRef}`);
  }

  /**
   * Every entry loaded before `sentAt` (performance.now() when a poll was sent) is current as of
   * then, but those `forget` dropped on the poll's word.
   */
  confirm(sentAt: number): void {
    this.confirmedAt = Math.max(this.confirmedAt, sentAt);
  }

  private async cached(key: string): Promise<Cached> {
    const held = this.cache.get(key);
    const now = performance.now();
    if (held && now - Math.max(held.loadedAt, this.confirmedAt) < this.config.TENANT_CACHE_TTL_MS && now - held.loadedAt < MAX_VOUCHED_AGE_MS) return held.value;
    // Single-flight: a lookup of this key already on its way answers this caller too.
    const entry = await this.cache.fetch(key, { forceRefresh: held !== undefined });
    if (!entry) throw new Error(`tenant lookup ${key} answered nothing`);
    return entry.value;
  }

  private async load(key: string): Promise<Cached> {
    const separator = key.indexOf(':');
    const kind = key.slice(0, separator);
    const value = key.slice(separator + 1);
    const found = kind === 'id' ? await this.tenants.findById(value) : await this.tenants.findByExternalRef(value);
    return found ?? ABSENT;
  }
}
