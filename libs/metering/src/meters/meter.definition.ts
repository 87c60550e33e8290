/** How a meter turns its events into one number per period. */
export type MeterAggregation = 'count' | 'sum' | 'max' | 'unique_count' | 'latest';

export const METER_AGGREGATIONS: readonly MeterAggregation[] = ['count', 'sum', 'max', 'unique_count', 'latest'];

/**
 * A declared meter. `recorded` meters are written only by the billable action they measure, in its
 * own transaction (`UsageRecorder`); `ingested` meters only through `POST /v1/usage/events`, so a
 * client can never add to (or replay into) a meter the platform counts itself.
 */
export interface MeterDefinition {
  /** Also the CloudEvents `type` of its events: lower-case letters, digits, `.`, `_`, `-`. */
  readonly name: string;
  readonly aggregation: MeterAggregation;
  /** The `data` property summed, maxed, counted distinct or kept; none for `count`. */
  readonly property?: string;
  readonly unit: string;
  readonly origin: 'recorded' | 'ingested';
  readonly description?: string;
}

export const METER_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
const PROPERTY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function defineMeter(meter: MeterDefinition): MeterDefinition {
  if (!METER_NAME.test(meter.name)) throw new Error(`Meter name "${meter.name}" must be 1-64 lower-case letters, digits, ".", "_" or "-"`);
  if (!METER_AGGREGATIONS.includes(meter.aggregation)) throw new Error(`Meter ${meter.name}: unknown aggregation ${meter.aggregation}`);
  if (meter.aggregation === 'count' && meter.property !== undefined) throw new Error(`Meter ${meter.name}: a count meter takes no property`);
  if (meter.aggregation !== 'count' && (meter.property === undefined || !PROPERTY.test(meter.property))) {
    throw new Error(`Meter ${meter.name}: a ${meter.aggregation} meter needs a property name`);
  }
  return Object.freeze({ ...meter });
}

/**
 * METERING_INGEST_METERS: `name:aggregation[:property[:unit]]`, comma-separated, e.g.
 * `compute.seconds:sum:seconds:seconds,active.users:unique_count:user_id:users`.
 */
export function parseIngestMeters(setting: string): MeterDefinition[] {
  return setting
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [name, aggregation, property, unit] = part.split(':');
      return defineMeter({
        name,
        aggregation: aggregation as MeterAggregation,
        property: property || undefined,
        unit: unit || (aggregation === 'count' ? 'events' : property) || 'units',
        origin: 'ingested',
      });
    });
}
