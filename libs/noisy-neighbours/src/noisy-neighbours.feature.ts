import { definePlatformFeature } from '@bulkhead/domain-kit';
import { join } from 'node:path';
import { NoisyNeighboursModule } from './noisy-neighbours.module';

/** Noisy-neighbour detection: its history lives in the control-plane catalogue. */
export const NOISY_NEIGHBOURS_FEATURE = definePlatformFeature({
  name: 'noisy-neighbours',
  module: NoisyNeighboursModule,
  entities: [],
  controlMigrations: join(__dirname, '..', 'migrations'),
});
