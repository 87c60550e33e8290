import { TenantData } from '@bulkhead/tenancy';
import { Injectable } from '@nestjs/common';
import { MeterCatalog } from '../meters/meter.catalog';
import { MeterDefinition } from '../meters/meter.definition';
import { MeterNotFoundProblem, UsageRangeInvalidProblem } from '../metering.errors';
import { rfc3339Instant } from '@bulkhead/rfc3339';
import { Granularity } from '../usage/usage-period';
import { UsageReportView } from './usage-query.dto';

const MAX_PERIODS = 1000;
const PERIOD_MS: Record<Granularity, number> = { hour: 3_600_000, day: 86_400_000, month: 28 * 86_400_000 };
/** The rollup column holding each aggregation's value. */
const VALUE_COLUMN: Record<MeterDefinition['aggregation'], string> = {
  count: 'event_count',
  sum: 'value_sum',
  max: 'value_max',
  unique_count: 'unique_count',
  latest: 'latest_value',
};

/** The current tenant's rollups of one meter, read in one statement. */
@Injectable()
export class UsageReportService {
  constructor(
    private readonly data: TenantData,
    private readonly catalog: MeterCatalog,
  ) {}

  meterOf(name: string): MeterDefinition {
    const meter = this.catalog.find(name);
    if (!meter) throw new MeterNotFoundProblem();
    return meter;
  }

  /** Validates the range before any tenant data is touched. */
  rangeOf(fromText: string, toText: string, granularity: Granularity): { from: Date; to: Date } {
    // Not `new Date(text)`: it reads 2026-02-30 as 2 March and a leap second as no date at all.
    const fromAt = rfc3339Instant(fromText);
    const toAt = rfc3339Instant(toText);
    if (fromAt === undefined || toAt === undefined) throw new UsageRangeInvalidProblem('from and to must be RFC 3339 date-times that name an instant.');
    const from = new Date(fromAt);
    const to = new Date(toAt);
    if (!(from.getTime() < to.getTime())) throw new UsageRangeInvalidProblem('from must be before to.');
    if ((to.getTime() - from.getTime()) / PERIOD_MS[granularity] > MAX_PERIODS) throw new UsageRangeInvalidProblem(`The range may hold at most ${MAX_PERIODS} periods of the granularity.`);
    return { from, to };
  }

  async report(meter: MeterDefinition, granularity: Granularity, range: { from: Date; to: Date }): Promise<UsageReportView> {
    const column = VALUE_COLUMN[meter.aggregation];
    const rows = await this.data.transaction(
      (tx) =>
        tx.statement<{ start: Date; value: string | null; total: string | null }>(
          `SELECT period_start AS start, trim_scale(${column})::text AS value, ${totalSql(meter, 'OVER ()')} AS total FROM usage_rollup_totals
            WHERE tenant_id = $1 AND meter = $2 AND granularity = $3 AND period_start >= $4 AND period_start < $5
            ORDER BY period_start`,
          [meter.name, granularity, range.from.toISOString(), range.to.toISOString()],
        ),
      { readOnly: true },
    );
    const buckets = rows.map((row) => ({ start: new Date(row.start).toISOString(), value: row.value ?? '0' }));
    return {
      meter: meter.name,
      aggregation: meter.aggregation,
      unit: meter.unit,
      granularity,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      total: rows[0]?.total ?? (meter.aggregation === 'count' || meter.aggregation === 'sum' ? '0' : null),
      buckets,
    };
  }
}

/** What "total over the range" means for each aggregation, in SQL over the range's rollups. */
export function totalSql(meter: MeterDefinition, over = ''): string {
  const column = VALUE_COLUMN[meter.aggregation];
  if (meter.aggregation === 'count' || meter.aggregation === 'sum') return `trim_scale(coalesce(sum(${column}) ${over}, 0))::text`;
  if (meter.aggregation === 'max') return `trim_scale(max(${column}) ${over})::text`;
  return 'NULL::text';
}

export { VALUE_COLUMN };
