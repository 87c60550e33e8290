import { Global, Module } from '@nestjs/common';
import { BulkheadConfig, loadConfig } from './bulkhead-config';

/** Makes the validated configuration injectable as `BulkheadConfig`; validation runs once at start. */
@Global()
@Module({
  providers: [{ provide: BulkheadConfig, useFactory: () => loadConfig() }],
  exports: [BulkheadConfig],
})
export class ConfigModule {}
