import { TenantTransaction } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { LessThan } from 'typeorm';
import { IdempotencyRecord } from './idempotency-key.entity';
import { IdempotencyKeyInProgressProblem, IdempotencyKeyReusedProblem } from './idempotency.errors';

/** How long a key is honoured, and so how long a client may retry with it. */
export const IDEMPOTENCY_KEY_TTL_MS = 24 * 60 * 60 * 1000;
/** A tenant's expired keys are swept at most this often per process. */
const SWEEP_EVERY_MS = 60 * 60 * 1000;

export interface KeyedRequest {
  key: string;
  fingerprint: string;
  method: string;
  path: string;
}

export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  /** The body's JSON text as sent, or null when there was none. */
  body: string | null;
}

/** A UUID (version 8, RFC 9562) derived from the key: the row's id within the tenant. */
export function recordIdOf(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The tenant's idempotency records, always used inside the request's own transaction: the claim
 * (a transaction-level advisory lock on the key, then the lookup) and the stored response commit
 * or roll back with the request's writes, and a crashed request's lock dies with its connection.
 */
@Injectable()
export class IdempotencyStore {
  private readonly swept = new LRUCache<string, true>({ max: 10_000, ttl: SWEEP_EVERY_MS });

  /**
   * The stored response to replay, or undefined when the request should run. Throws 409 while
   * another transaction holds the key, 422 when the key was used for another request.
   */
  async claim(tx: TenantTransaction, request: KeyedRequest): Promise<StoredResponse | undefined> {
    const id = recordIdOf(request.key);
    if (!(await tx.tryAdvisoryLock(`idempotency:${id}`))) throw new IdempotencyKeyInProgressProblem();
    const records = tx.repository(IdempotencyRecord);
    await this.sweepOnce(tx);
    const found = await records.findById(id);
    if (!found) return undefined;
    if (new Date(found.expiresAt).getTime() <= Date.now()) {
      // Past its 24 h the key is new again: the sweep may not have reached it yet.
      await records.delete(id);
      return undefined;
    }
    // A different key with the same id would be a sha256 collision: refused like a reuse.
    if (found.key !== request.key || found.fingerprint !== request.fingerprint) throw new IdempotencyKeyReusedProblem();
    return { status: found.status, headers: found.headers, body: found.body };
  }

  async save(tx: TenantTransaction, request: KeyedRequest, response: StoredResponse): Promise<void> {
    await tx.repository(IdempotencyRecord).insert({
      id: recordIdOf(request.key),
      key: request.key,
      fingerprint: request.fingerprint,
      method: request.method,
      path: request.path,
      status: response.status,
      headers: response.headers,
      body: response.body,
      expiresAt: new Date(Date.now() + IDEMPOTENCY_KEY_TTL_MS),
    });
  }

  /**
   * Lazy cleanup: the first keyed request of a tenant in each hour (per process) deletes that
   * tenant's expired keys, inside that request's transaction. Nothing needs a sweep for correctness (an
   * expired key is never honoured); it bounds what a tenant keeps to about a day of keys.
   */
  private async sweepOnce(tx: TenantTransaction): Promise<void> {
    if (this.swept.has(tx.tenantId)) return;
    this.swept.set(tx.tenantId, true);
    await tx.repository(IdempotencyRecord).deleteWhere({ expiresAt: LessThan(new Date()) });
  }
}
