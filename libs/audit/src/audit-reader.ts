import { ValidationProblem } from '@bulkhead/problem';
import { rfc3339Instant } from '@bulkhead/rfc3339';
import { currentTenant, runWithTenant, ScopedWhere, TenantData } from '@bulkhead/tenancy';

import { Injectable } from '@nestjs/common';
import { Between, In, LessThan, MoreThanOrEqual } from 'typeorm';
import { AuditEntryView, AuditPage, AuditQuery } from './audit-entry.dto';
import { AuditEntryRow } from './audit-entry.entity';
import { AuditChainer } from './audit-chainer';
import { AuditKeyRow } from './audit-key.entity';
import { AuditLinkRow } from './audit-link.entity';
import { TenantKeyring } from './tenant-keyring';

const EXPORT_PAGE = 500;

/** Reads the current tenant's chain, newest key state first: a shredded key is never read from a cache. */
@Injectable()
export class AuditReader {
  constructor(
    private readonly data: TenantData,
    private readonly keyring: TenantKeyring,
    private readonly chainer: AuditChainer,
  ) {}

  async page(query: AuditQuery): Promise<AuditPage> {
    const limit = query.limit ?? 50;
    // A reader sees every committed entry linked: those still pending are chained first.
    await this.chainer.chainNow(currentTenant());
    const rows = await this.data.read(AuditEntryRow).findPage({ where: whereOf(query), after: query.after, limit });
    const links = await linksOf(this.data, rows);
    const keys = rows.some((row) => row.pii) ? await this.currentKeys() : new Map<string, Buffer>();
    return { items: rows.map((row) => AuditEntryView.of(row, links.get(row.id), keys)), next: rows.length === limit ? rows[rows.length - 1].id : null };
  }

  /**
   * Every entry matching `query`, page after page, as JSON lines (for a SIEM). The stream is
   * pulled by the socket, outside the request's async context: the tenant is captured here, when
   * the export starts, and each page is read back inside it.
   */
  lines(query: AuditQuery): AsyncGenerator<string> {
    const tenant = currentTenant();
    const inTenant = <T>(work: () => Promise<T>) => runWithTenant(tenant, work);
    const data = this.data;
    const keysOf = () => this.currentKeys();
    const chainer = this.chainer;
    return (async function* () {
      await inTenant(() => chainer.chainNow(tenant));
      let after = query.after;
      // Everything from the cursor on, or at most `limit` entries when the caller names one.
      let left = query.limit ?? Number.POSITIVE_INFINITY;
      const keys = await inTenant(keysOf);
      while (left > 0) {
        const page = Math.min(EXPORT_PAGE, left);
        const rows = await inTenant(() => data.read(AuditEntryRow).findPage({ where: whereOf(query), after, limit: page }));
        const links = await inTenant(() => linksOf(data, rows));
        for (const row of rows) yield JSON.stringify(AuditEntryView.of(row, links.get(row.id), keys)) + '\n';
        if (rows.length < page) return;
        left -= rows.length;
        after = rows[rows.length - 1].id;
      }
    })();
  }

  private currentKeys(): Promise<Map<string, Buffer>> {
    return this.keyring.currentKeys(() => this.data.read(AuditKeyRow).findPage({ limit: 100 }), currentTenant().tenantId);
  }
}

/** The chain links of a page of entries, by entry id (an entry still pending has none). */
async function linksOf(data: TenantData, rows: readonly AuditEntryRow[]): Promise<Map<string, AuditLinkRow>> {
  if (rows.length === 0) return new Map();
  const links = await data.read(AuditLinkRow).findPage({ where: { id: In(rows.map((row) => row.id)) }, limit: rows.length });
  return new Map(links.map((link) => [link.id, link]));
}

/**
 * The lowest uuid v7 of the millisecond `at`. An entry's id is generated after its time is taken
 * (`encodeEntry`), so an entry at or after `at` has an id at or above this: a time filter becomes
 * a range of the primary key (entries have no time index).
 */
function firstIdAt(at: Date): string {
  const hex = Math.min(0xffffffffffff, Math.max(0, Math.floor(at.getTime()))).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}

/** A validated `from` or `to` (`IsRfc3339Instant`): never through `new Date`, which misreads some. */
function instantOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const at = rfc3339Instant(text);
  if (at === undefined) throw new ValidationProblem([{ field: 'from/to', messages: ['must be an RFC 3339 date-time that names an instant'] }]);
  return new Date(at);
}

function whereOf(query: AuditQuery): ScopedWhere<AuditEntryRow> {
  const where: Record<string, unknown> = {};
  const from = instantOf(query.from);
  const to = instantOf(query.to);
  if (from) where.id = MoreThanOrEqual(firstIdAt(from));
  if (query.action !== undefined) where.action = query.action;
  if (query.outcome !== undefined) where.outcome = query.outcome;
  if (query.actorKind !== undefined) where.actorKind = query.actorKind;
  if (query.requestId !== undefined) where.requestId = query.requestId;
  if (from && to) where.occurredAt = Between(from, new Date(to.getTime() - 1));
  else if (from) where.occurredAt = MoreThanOrEqual(from);
  else if (to) where.occurredAt = LessThan(to);
  return where as ScopedWhere<AuditEntryRow>;
}
