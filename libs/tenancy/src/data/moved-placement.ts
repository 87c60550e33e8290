import type { PlacedTenant, TenantRecord } from '@bulkhead/control-plane';
import { PLACEMENT_MOVED_SQLSTATE } from '@bulkhead/control-plane';
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
  const code = error instanceof QueryFailedError ? (error.driverError as { code?: string }).code : (error as { code?: unknown } | null)?.code;
  return code === PLACEMENT_MOVED_SQLSTATE;
}

export function placedTenantOfRecord(record: TenantRecord, tier: PlacedTenant['tier']): PlacedTenant {
  return { tenantId: record.id, tier, isolation: record.isolation, cluster: record.cluster, schemaName: record.schemaName, databaseName: record.databaseName };
}

export function samePlacement(a: PlacedTenant, b: PlacedTenant): boolean {
  return a.isolation === b.isolation && a.cluster === b.cluster && a.schemaName === b.schemaName && a.databaseName === b.databaseName;
}
