import { ConfigModule } from '@bulkhead/config';
import { JobsModule } from '@bulkhead/jobs';
import { SALES_ENTITIES, SalesModule } from '@bulkhead/sales';
import { TenancyModule } from '@bulkhead/tenancy';
import { Module } from '@nestjs/common';

/** The same services the API uses, without HTTP: the CLI goes through the same code paths. */
@Module({
  imports: [
    ConfigModule,
    TenancyModule.forRoot({ entities: SALES_ENTITIES, applicationName: 'bulkhead-cli', http: false }),
    JobsModule.forRoot({ worker: false, http: false }),
    SalesModule,
  ],
})
export class CliModule {}
