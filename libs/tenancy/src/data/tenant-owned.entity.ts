import { PrimaryColumn } from 'typeorm';

/**
 * Base of every tenant table's entity: the key is `(tenant_id, id)`, so every index and foreign
 * key leads with the tenant. `id` is a UUIDv7 minted by the application, so ordering by it is
 * ordering by creation and it can serve as a stable pagination cursor.
 */
export abstract class TenantOwnedEntity {
  @PrimaryColumn('uuid', { name: 'tenant_id' })
  tenantId!: string;

  @PrimaryColumn('uuid')
  id!: string;
}
