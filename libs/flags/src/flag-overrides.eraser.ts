import { TenantRecordsEraser, TenantRecordsEraserProvider } from '@bulkhead/lifecycle';
import { Injectable } from '@nestjs/common';
import { FlagCatalogue } from './flag-catalogue';
import { FlagStore } from './flag.store';

/**
 * An offboarded tenant's flag overrides go with the rest of its data. The registry keeps a retired
 * tenant's record (so the overrides' foreign key never cascades), hence an explicit erasure; every
 * instance then reloads the catalogue.
 */
@Injectable()
@TenantRecordsEraserProvider()
export class FlagOverridesEraser implements TenantRecordsEraser {
  readonly store = 'control:feature_flag_overrides';

  constructor(
    private readonly flags: FlagStore,
    private readonly catalogue: FlagCatalogue,
  ) {}

  count(tenantId: string): Promise<number> {
    return this.flags.overridesOf(tenantId);
  }

  async erase(tenantId: string): Promise<number> {
    const deleted = await this.flags.deleteOverridesOf(tenantId);
    if (deleted > 0) await this.catalogue.changed();
    return deleted;
  }
}
