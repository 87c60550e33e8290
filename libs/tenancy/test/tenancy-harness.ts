import { BulkheadConfig, ConfigModule, IsolationModel, loadConfig } from '@bulkhead/config';
import { DataSourceRouter, TenantAdmin } from '@bulkhead/control-plane';
import { withPg } from '@bulkhead/database';
import { defineDomain } from '@bulkhead/domain-kit';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Column, CreateDateColumn, DataSource, Entity } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { Module } from '@nestjs/common';
import { TenantContext, tenantContextOf } from '../src/context/tenant-context';
import { TenantOwnedEntity } from '../src/data/tenant-owned.entity';
import { TenancyModule } from '../src/tenancy.module';

/** The lib's own view of the `customers` table, so its tests need no domain lib. */
@Entity('customers')
export class Account extends TenantOwnedEntity {
  @Column('text') email!: string;
  @Column('text') name!: string;
  @Column('timestamptz', { name: 'created_at', default: () => 'now()' }) createdAt!: Date;
}

/** The same table with a column TypeORM manages (a create date): its inserts go through TypeORM's own builder. */
@Entity('customers', { synchronize: false })
export class ManagedAccount extends TenantOwnedEntity {
  @Column('text') email!: string;
  @Column('text') name!: string;
  @CreateDateColumn({ type: 'timestamptz', name: 'created_at' }) createdAt!: Date;
}

/**
 * The harness's domain: `Account` on the `customers` table, which the sales domain made in the
 * shared pool and the harness's own migration makes in every schema or silo it provisions.
 */
@Module({})
class HarnessModule {}
const HARNESS_DOMAIN = defineDomain({ name: 'harness', module: HarnessModule, entities: [Account, ManagedAccount], migrations: join(__dirname, 'harness-migrations') });

export interface Harness {
  context: INestApplicationContext;
  dataSource: DataSource;
  admin: TenantAdmin;
  newTenant(isolation?: IsolationModel): Promise<TenantContext>;
  close(): Promise<void>;
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const config = loadConfig({ ...process.env, ...env });
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule, TenancyModule.forRoot({ domains: [HARNESS_DOMAIN], applicationName: 'bulkhead-tenancy-test', http: false })],
  })
    .overrideProvider(BulkheadConfig)
    .useValue(config)
    .compile();
  const context = await moduleRef.init();
  const admin = context.get(TenantAdmin);
  const created: string[] = [];
  // The shared pool is private to the control plane; a pool tenant's placement is the way to it.
  const probe = tenantContextOf(await admin.create({ slug: `h-${randomBytes(6).toString('hex')}`, name: 'Harness probe', tier: 'free', isolation: 'pool' }), 'harness');
  const dataSource = await context.get(DataSourceRouter).use(probe, async (placement) => placement.dataSource, { critical: true });
  return {
    context,
    dataSource,
    admin,
    async newTenant(isolation: IsolationModel = 'pool') {
      const record = await admin.create({ slug: `h-${randomBytes(6).toString('hex')}`, name: 'Harness tenant', tier: 'free', isolation });
      created.push(record.id);
      return tenantContextOf(record, 'harness');
    },
    async close() {
      // Its placements carry the harness's table, not the deployment's domains: retire them so a
      // fleet run of another suite does not try to migrate them.
      await withPg(config.DATABASE_OWNER_URL, 'tenancy-harness', (owner) =>
        owner.query("UPDATE tenants SET status = 'deleted', updated_at = now() WHERE id = ANY($1::uuid[])", [created]),
      );
      await context.close();
    },
  };
}

export function anEmail(): string {
  return `${uuidv7()}@harness.test`;
}
