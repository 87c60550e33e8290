import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { FlagsModule } from './flags.module';

/** Feature flags: its table lives in the control-plane catalogue (`controlMigrations`), not in tenant data. */
export const FLAGS_FEATURE = definePlatformFeature({ name: 'flags', module: FlagsModule, entities: [], controlMigrations: join(__dirname, '..', 'migrations') });
