import { BulkheadConfig, ConfigModule, loadConfig } from '@bulkhead/config';
import { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { Column, DataSource, Entity } from 'typeorm';
import { v7 as uuidv7 } from 'uuid';
import { IsolationModel, TenantContext, tenantContextOf } from '../src/context/tenant-context';
import { TenantOwnedEntity } from '../src/data/tenant-owned.entity';
import { RUNTIME_DATA_SOURCE } from '../src/placement/runtime-data-source';
import { TenantAdmin } from '../src/registry/tenant-admin';
import { TenancyModule } from '../src/tenancy.module';

/** The lib's own view of the `customers` table, so its tests need no domain lib. */
@Entity('customers')
export class Account extends TenantOwnedEntity {
  @Column('text') email!: string;
  @Column('text') name!: string;
}

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
    imports: [ConfigModule, TenancyModule.forRoot({ entities: [Account], applicationName: 'bulkhead-tenancy-test', http: false })],
  })
    .overrideProvider(BulkheadConfig)
    .useValue(config)
    .compile();
  const context = await moduleRef.init();
  const admin = context.get(TenantAdmin);
  return {
    context,
    dataSource: context.get<DataSource>(RUNTIME_DATA_SOURCE),
    admin,
    async newTenant(isolation: IsolationModel = 'pool') {
      const record = await admin.create({ slug: `h-${randomBytes(6).toString('hex')}`, name: 'Harness tenant', tier: 'free', isolation });
      return tenantContextOf(record, 'harness');
    },
    close: () => context.close(),
  };
}

export function anEmail(): string {
  return `${uuidv7()}@harness.test`;
}
