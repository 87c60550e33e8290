import { toSqlLiteral } from '@bulkhead/tenancy';
import { v7 as uuidv7 } from 'uuid';
import { AuditEvent } from './audit-event';
import { DataKey, sealPersonal } from './pii-cipher';

/** One entry ready to insert: the canonical text that is hashed, and its copies for filtering. */
export interface EncodedEntry {
  readonly tenantId: string;
  readonly id: string;
  readonly occurredAt: Date;
  readonly action: string;
  readonly outcome: string;
  readonly actorKind: string;
  readonly requestId: string | null;
  readonly entry: string;
  readonly pii: Buffer | null;
}

/**
 * What the stored entry text holds (version 1). Personal data is only ever in `pii`, sealed. The
 * keys copied into filter columns come first, in this order, so a verifier can check the columns
 * against the text by its prefix alone (rebuilt from the columns in SQL), without parsing every entry.
 */
export interface StoredEntry {
  v: 1;
  id: string;
  tenant: string;
  at: string;
  action: string;
  outcome: string;
  actorKind: string;
  requestId: string | null;
  actor: { scopes: readonly string[]; impersonation: { grantId: string; mode: string } | null };
  resource: AuditEvent['resource'] | null;
  resolution: AuditEvent['resolution'];
  boundary: readonly string[];
  status: number | null;
  code: string | null;
  details: AuditEvent['details'] | null;
  /** `sealed`: personal data is in `pii`; `none`: there was none; `shredded`: the key was gone, so it was dropped. */
  personal: 'sealed' | 'none' | 'shredded';
}

const MAX_ACTION = 200;

/**
 * Builds the entry: everything but personal data goes into the canonical JSON text (the exact
 * bytes the chain hashes); the actor's subject, the operator behind an impersonation, its reason
 * and `personal` are sealed with the tenant's data key. Without a key (shredded) they are dropped.
 * `id` is a fresh uuid v7 unless the caller derived one (`keyedEntryId`).
 */
export function encodeEntry(tenantId: string, event: AuditEvent, key: DataKey | null, now = new Date(), id = uuidv7()): EncodedEntry {
  const personalData: Record<string, unknown> = { ...(event.personal ?? {}) };
  if (event.actor.subject !== undefined) personalData.subject = event.actor.subject;
  if (event.actor.impersonation) {
    personalData.operator = event.actor.impersonation.operator;
    personalData.reason = event.actor.impersonation.reason;
  }
  const hasPersonal = Object.keys(personalData).length > 0;
  const action = event.action.slice(0, MAX_ACTION);
  const stored: StoredEntry = {
    v: 1,
    id,
    tenant: tenantId,
    at: now.toISOString(),
    action,
    outcome: event.outcome,
    actorKind: event.actor.kind,
    requestId: event.requestId ?? null,
    actor: {
      scopes: event.actor.scopes ?? [],
      impersonation: event.actor.impersonation ? { grantId: event.actor.impersonation.grantId, mode: event.actor.impersonation.mode } : null,
    },
    resource: event.resource ?? null,
    resolution: event.resolution ?? null,
    boundary: event.boundary ?? [],
    status: event.status ?? null,
    code: event.code ?? null,
    details: event.details ?? null,
    personal: !hasPersonal ? 'none' : key ? 'sealed' : 'shredded',
  };
  return {
    tenantId,
    id,
    occurredAt: now,
    action,
    outcome: event.outcome,
    actorKind: event.actor.kind,
    requestId: event.requestId ?? null,
    entry: JSON.stringify(stored),
    pii: hasPersonal && key ? sealPersonal(key, tenantId, Buffer.from(JSON.stringify(personalData), 'utf8')) : null,
  };
}

/**
 * The calls that append entries (all of one tenant), as one literal-only statement to travel in
 * the COMMIT message (which cannot carry bind parameters): `audit_append` inserts an entry and
 * marks it pending; its place in the chain (seq, prev_hash, hash) is left to the chaining function.
 */
export function appendStatement(entries: readonly EncodedEntry[]): string {
  const calls = entries.map(
    (e) =>
      `audit_append(${[
        toSqlLiteral(e.tenantId) + '::uuid',
        toSqlLiteral(e.id) + '::uuid',
        toSqlLiteral(e.occurredAt) + '::timestamptz',
        toSqlLiteral(e.action),
        toSqlLiteral(e.outcome),
        toSqlLiteral(e.actorKind),
        toSqlLiteral(e.requestId),
        toSqlLiteral(e.entry),
        e.pii === null ? 'NULL' : `'\\x${e.pii.toString('hex')}'::bytea`,
      ].join(', ')})`,
  );
  return `SELECT ${calls.join(', ')}`;
}
