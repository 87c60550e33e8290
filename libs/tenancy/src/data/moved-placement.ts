import type { PlacedTenant, TenantRecord } from '@bulkhead/control-plane';
import { PLACEMENT_FENCED_SQLSTATE, PLACEMENT_MOVED_SQLSTATE } from '@bulkhead/control-plane';
import { QueryFailedError } from 'typeorm';
import { TenantContext } from '../context/tenant-context';
import { setUnitOfWorkValue, unitOfWorkValue } from '../context/tenant-context.store';

const MOVED_PLACEMENT = Symbol('bulkhead.moved-placement');

/**
 * The placement a unit of work uses: the one it started with (its tenant context), unless one of
 * its writes met the tenant's move after the switch and followed the tenant to its new placement;
 * from then on the unit stays there, so it reads what it wrote.
 */
export function placedTenantOf(tenant: TenantContext): PlacedTenant {
  const moved = unitOfWorkValue<PlacedTenant>(MOVED_PLACEMENT);
  return moved && moved.tenantId === tenant.tenantId ? moved : tenant;
}

export function followMovedPlacement(placed: PlacedTenant): void {
  setUnitOfWorkValue(MOVED_PLACEMENT, placed);
}

/** A write refused by the tenant's old placement: it rolled back untouched and belongs on the new one. */
export function isPlacementMoved(error: unknown): boolean {
  return sqlStateOf(error) === PLACEMENT_MOVED_SQLSTATE;
}

/** A write refused while the tenant's move holds its write fence: it rolled back untouched and runs again shortly. */
export function isPlacementFenced(error: unknown): boolean {
  return sqlStateOf(error) === PLACEMENT_FENCED_SQLSTATE;
}

/**
 * 42P01 undefined_table, 3F000 invalid_schema_name, 3D000 invalid_catalog_name, 42883
 * undefined_function and 42704 undefined_object (a function or type of the dropped schema): what
 * a unit of work meets on a schema or silo placement dropped under it, having outlived a move's
 * grace period. Only a sign of a move when the registry has the tenant elsewhere now.
 */
const GONE = new Set(['42P01', '3F000', '3D000', '42883', '42704']);

/** A unit of work on a schema or silo placement that no longer exists (see `GONE`). */
export function isPlacementGone(error: unknown, placed: PlacedTenant): boolean {
  const code = sqlStateOf(error);
  return placed.isolation !== 'pool' && typeof code === 'string' && GONE.has(code);
}

function sqlStateOf(error: unknown): unknown {
  return error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : (error as { code?: unknown } | null)?.code;
}

export function placedTenantOfRecord(record: TenantRecord, tier: PlacedTenant['tier']): PlacedTenant {
  return { tenantId: record.id, tier, isolation: record.isolation, cluster: record.cluster, schemaName: record.schemaName, databaseName: record.databaseName, placementVersion: record.placementVersion };
}

export function samePlacement(a: PlacedTenant, b: PlacedTenant): boolean {
  return a.isolation === b.isolation && a.cluster === b.cluster && a.schemaName === b.schemaName && a.databaseName === b.databaseName;
}

/**
 * For a write in a cluster's shared database (pool and schema tenants), a statement for the
 * COMMIT message that refuses the commit (BHM01) when the tenant has left the placement this unit
 * of work started on: a unit that outlived a move's grace period must not write into shared
 * tables its tenant left (they keep no capture after the drop). On cluster main the registry is
 * in that same database and is asked directly; another cluster's pool remembers the tenants that
 * left it (`bulkhead_departures`). A schema left on another cluster is dropped, so a late write
 * there fails on its own; a silo's database likewise.
 */
export function placementCheckOf(placed: PlacedTenant): string | undefined {
  if (placed.placementVersion === undefined || placed.isolation === 'silo') return undefined;
  const version = Math.trunc(placed.placementVersion);
  if (placed.cluster === 'main') return `SELECT public.bulkhead_assert_placement('${placed.tenantId}'::uuid, ${version})`;
  if (placed.isolation === 'pool') return `SELECT public.bulkhead_assert_present('${placed.tenantId}'::uuid, ${version})`;
  return undefined;
}
