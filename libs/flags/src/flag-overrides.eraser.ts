import { BulkheadConfig } from '@bulkhead/config';
import { withPg } from '@bulkhead/database';
import { TenantRecordsEraser, TenantRecordsEraserProvider } from '@bulkhead/lifecycle';
import { Injectable } from '@nestjs/common';
import { FlagCatalogue } from './flag-catalogue';

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
    private readonly config: BulkheadConfig,
    private readonly catalogue: FlagCatalogue,
  ) {}

  async count(tenantId: string): Promise<number> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-flags', async (client) =>
      Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM feature_flag_overrides WHERE tenant = $1', [tenantId])).rows[0].n),
    );
  }

  async erase(tenantId: string): Promise<number> {
    const deleted = await withPg(this.config.DATABASE_URL, 'bulkhead-flags', async (client) => (await client.query('DELETE FROM feature_flag_overrides WHERE tenant = $1', [tenantId])).rowCount ?? 0);
    if (deleted > 0) await this.catalogue.changed();
    return deleted;
  }
}
