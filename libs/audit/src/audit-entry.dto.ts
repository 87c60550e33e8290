import { QueryInteger } from '@bulkhead/domain-kit';
import { IsRfc3339Instant } from '@bulkhead/rfc3339';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, IsUUID, Matches, Max, MaxLength, Min } from 'class-validator';
import { AuditEntryRow } from './audit-entry.entity';
import { AuditLinkRow } from './audit-link.entity';
import { StoredEntry } from './entry-encoding';
import { openPersonal } from './pii-cipher';

export const ACTOR_KINDS = ['tenant_user', 'operator', 'job', 'system', 'anonymous'] as const;

/** Filters of an audit listing; pages are in entry order (the `next` cursor of the previous page). */
export class AuditQuery {
  @ApiPropertyOptional({ description: 'Cursor: the `next` value of the previous page.' })
  @IsOptional()
  @IsUUID()
  after?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  // Printable ASCII only: a NUL or control character could never match and PostgreSQL refuses NUL in text.
  @ApiPropertyOptional({ description: 'Exact action, e.g. `POST /v1/customers`.', maxLength: 200, pattern: '^[ -~]{1,200}$' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @Matches(/^[ -~]{1,200}$/)
  action?: string;

  @ApiPropertyOptional({ description: '`committed`, `refused`, `failed`, `succeeded`...', pattern: '^[a-z_]{1,64}$' })
  @IsOptional()
  @Matches(/^[a-z_]{1,64}$/)
  outcome?: string;

  @ApiPropertyOptional({ enum: ACTOR_KINDS })
  @IsOptional()
  @IsIn(ACTOR_KINDS)
  actorKind?: string;

  @ApiPropertyOptional({ pattern: '^[A-Za-z0-9._-]{1,128}$' })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/)
  requestId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries at or after this time (RFC 3339, with an offset).' })
  @IsOptional()
  @IsRfc3339Instant()
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Entries before this time (RFC 3339, with an offset).' })
  @IsOptional()
  @IsRfc3339Instant()
  to?: string;
}

export class AuditEntryView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Position in the tenant chain (decimal string); null while pending (committed, linked into the chain moments later).', pattern: '^[0-9]+$' })
  seq!: string | null;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() action!: string;
  @ApiProperty() outcome!: string;
  @ApiProperty({ description: 'kind, scopes, subject (null once the tenant key is shredded), impersonation (operator and reason when readable)', type: 'object', additionalProperties: true })
  actor!: Record<string, unknown>;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) resource!: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) requestId!: string | null;
  @ApiProperty({ description: 'How the tenant was resolved: claim, registry, placement model and cluster.', type: 'object', additionalProperties: true, nullable: true })
  resolution!: Record<string, unknown> | null;
  @ApiProperty({ type: [String], description: 'The boundary checks that applied.' }) boundary!: string[];
  @ApiProperty({ type: Number, nullable: true }) status!: number | null;
  @ApiProperty({ type: String, nullable: true }) code!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) details!: Record<string, unknown> | null;
  @ApiProperty({ enum: ['sealed', 'none', 'shredded'], description: '`shredded`: the personal data can no longer be read.' }) personal!: string;
  @ApiProperty({ type: String, nullable: true, description: 'This entry\'s chain hash (hex); null while pending.' }) hash!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'The previous entry\'s chain hash (hex); null while pending.' }) prevHash!: string | null;

  /** The entry as stored, with its place in the chain (none while pending) and its personal data opened when the tenant's key still exists. */
  static of(row: AuditEntryRow, link: AuditLinkRow | undefined, keys: ReadonlyMap<string, Buffer>): AuditEntryView {
    const stored = JSON.parse(row.entry) as StoredEntry;
    let personal: Record<string, unknown> = {};
    let state = stored.personal;
    if (row.pii) {
      let opened: Buffer | null = null;
      try {
        opened = openPersonal(keys, row.tenantId, row.pii);
      } catch {
        opened = null;
      }
      if (opened) personal = JSON.parse(opened.toString('utf8')) as Record<string, unknown>;
      else state = 'shredded';
    }
    const { subject, operator, reason, ...rest } = personal;
    const impersonation = stored.actor.impersonation ? { ...stored.actor.impersonation, operator: operator ?? null, reason: reason ?? null } : null;
    const view = new AuditEntryView();
    Object.assign(view, {
      id: row.id,
      seq: link ? String(link.seq) : null,
      at: stored.at,
      action: stored.action,
      outcome: stored.outcome,
      actor: { kind: stored.actorKind, scopes: stored.actor.scopes, subject: subject ?? null, impersonation },
      resource: (stored.resource as Record<string, unknown> | null) ?? null,
      requestId: stored.requestId,
      resolution: (stored.resolution as Record<string, unknown> | null) ?? null,
      boundary: [...stored.boundary],
      status: stored.status,
      code: stored.code,
      details: Object.keys(rest).length ? { ...(stored.details ?? {}), personal: rest } : ((stored.details as Record<string, unknown> | null) ?? null),
      personal: state,
      hash: link?.hash.toString('hex') ?? null,
      prevHash: link?.prevHash.toString('hex') ?? null,
    });
    return view;
  }
}

export class AuditPage {
  @ApiProperty({ type: [AuditEntryView] }) items!: AuditEntryView[];
  @ApiProperty({ type: String, nullable: true, description: 'Cursor of the next page, or null.' }) next!: string | null;
}
