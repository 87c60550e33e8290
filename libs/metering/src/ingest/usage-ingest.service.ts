import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { MeterCatalog } from '../meters/meter.catalog';
import { MeterDefinition } from '../meters/meter.definition';
import { usageEventRowId } from '../usage/usage-event.id';
import { UsageEventRow, UsageWriter } from '../usage/usage.writer';
import { rfc3339Instant } from '@bulkhead/rfc3339';
import { RefusalReason, UsageEventDto, UsageEventFate, UsageIngestResult } from './usage-event.dto';

/** Stripe's window for meter events, kept here so everything accepted can be billed. */
export const MAX_EVENT_AGE_MS = 35 * 24 * 60 * 60 * 1000;
export const MAX_EVENT_LEAD_MS = 5 * 60 * 1000;
const TENANT_KEYS = new Set(['tenant', 'tenantid', 'tenant_id', 'tenant-id']);
/** Non-negative: a negative value would let a tenant cancel usage it is billed for (sum, max, latest meters). */
const DECIMAL = /^\d{1,20}(\.\d{1,12})?$/;

/**
 * The ingest API's work: each event is judged on its own (a refused event is reported with its
 * reason and does not stop the others), then every acceptable event of the batch is written in
 * one transaction (`UsageWriter`): the log claim and the rollups commit together, so there is no
 * moment when an event is claimed but not counted. Duplicates, in the batch or in the log since
 * the tenant began, count zero times.
 */
@Injectable()
export class UsageIngestService {
  constructor(
    private readonly data: TenantData,
    private readonly catalog: MeterCatalog,
    private readonly writer: UsageWriter,
  ) {}

  async ingest(events: readonly UsageEventDto[]): Promise<UsageIngestResult> {
    const now = Date.now();
    const fates: UsageEventFate[] = new Array(events.length);
    const rows: UsageEventRow[] = [];
    const slotOf = new Map<string, number>();
    await this.data.transaction(async (tx) => {
      events.forEach((event, index) => {
        // When the usage happened: read once, judged, then stored (receipt when the event names no time).
        const at = event.time === undefined || event.time === null ? now : rfc3339Instant(event.time);
        const refusal = this.judge(event, at, now);
        if (refusal) {
          fates[index] = { id: event.id, status: 'refused', reason: refusal.reason, detail: refusal.detail };
          return;
        }
        const rowId = usageEventRowId(tx.tenantId, event.id);
        if (slotOf.has(rowId)) {
          fates[index] = { id: event.id, status: 'duplicate' };
          return;
        }
        slotOf.set(rowId, index);
        rows.push(this.rowOf(event, rowId, this.catalog.find(event.type) as MeterDefinition, at as number)); // judged: `at` names an instant
      });
      const { inserted } = await this.writer.write(tx, rows);
      for (const [rowId, index] of slotOf) fates[index] = { id: events[index].id, status: inserted.has(rowId) ? 'accepted' : 'duplicate' };
    });
    let accepted = 0;
    let duplicates = 0;
    for (const fate of fates) {
      if (fate.status === 'accepted') accepted += 1;
      else if (fate.status === 'duplicate') duplicates += 1;
    }
    return { accepted, duplicates, refused: events.length - accepted - duplicates, results: fates };
  }

  private judge(event: UsageEventDto, at: number | undefined, now: number): { reason: RefusalReason; detail: string } | undefined {
    const meter = this.catalog.find(event.type);
    if (!meter) return { reason: 'unknown_meter', detail: `No meter named ${event.type} is declared.` };
    if (meter.origin !== 'ingested') return { reason: 'meter_not_ingestable', detail: `${event.type} is recorded by the platform itself and cannot be reported.` };
    const reserved = this.catalog.recordedNamespaceOf(event.id);
    if (reserved) return { reason: 'id_reserved', detail: `Ids starting with "${reserved.name}:" are the platform's own events of the recorded meter ${reserved.name}.` };
    // Validation lets only times that name an instant through; should one slip by, it is refused here, never stored as a bad date.
    if (at === undefined) return { reason: 'value_invalid', detail: 'time must be an RFC 3339 date-time.' };
    if (at < now - MAX_EVENT_AGE_MS) return { reason: 'too_old', detail: 'time is more than 35 days ago.' };
    if (at > now + MAX_EVENT_LEAD_MS) return { reason: 'in_future', detail: 'time is more than 5 minutes ahead.' };
    if (event.data && Object.keys(event.data).some((key) => TENANT_KEYS.has(key.toLowerCase()))) {
      return { reason: 'tenant_in_body', detail: 'The tenant comes from the token; data may not name one.' };
    }
    if (meter.property !== undefined) {
      const raw = event.data?.[meter.property];
      if (meter.aggregation === 'unique_count') {
        if (!(typeof raw === 'string' && raw.length > 0 && raw.length <= 255) && !(typeof raw === 'number' && Number.isFinite(raw))) {
          return { reason: 'value_invalid', detail: `data.${meter.property} must be a string (1-255 characters) or a number.` };
        }
      } else if (decimalOf(raw) === undefined) {
        return { reason: 'value_invalid', detail: `data.${meter.property} must be a number of zero or more (at most 20 integer and 12 fractional digits).` };
      }
    }
    return undefined;
  }

  private rowOf(event: UsageEventDto, rowId: string, meter: MeterDefinition, at: number): UsageEventRow {
    const property = meter.property === undefined ? undefined : event.data?.[meter.property];
    const unique = meter.aggregation === 'unique_count';
    return {
      rowId,
      eventId: event.id,
      meter: meter.name,
      origin: 'ingested',
      source: event.source,
      subject: event.subject ?? null,
      occurredAt: new Date(at),
      value: unique || meter.aggregation === 'count' ? '1' : (decimalOf(property) as string),
      uniqueKey: unique ? String(property) : null,
      data: event.data ?? null,
    };
  }
}

/** A non-negative JSON number or numeric string as exact decimal text, or undefined. */
function decimalOf(raw: unknown): string | undefined {
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return undefined;
    const text = plainDecimal(raw);
    return DECIMAL.test(text) ? text : undefined;
  }
  if (typeof raw === 'string' && DECIMAL.test(raw)) return raw;
  return undefined;
}

/**
 * A number's decimal text. JavaScript prints numbers below 1e-6 with an exponent (`1e-7`), which
 * DECIMAL refused though 0.0000001 is within 12 fractional digits; written out, DECIMAL judges
 * its digits like any other value's.
 */
function plainDecimal(value: number): string {
  const text = String(value);
  const small = /^(\d)(?:\.(\d+))?e-(\d+)$/.exec(text);
  if (!small) return text;
  const [, lead, rest = '', exponent] = small;
  return `0.${'0'.repeat(Number(exponent) - 1)}${lead}${rest}`;
}
