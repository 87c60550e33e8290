import { migrationSource } from '@bulkhead/database';
import { join } from 'node:path';

/** The control plane's own catalogue (the tenant registry and placements): the `control` set. */
export const CONTROL_PLANE_MIGRATIONS = migrationSource('control-plane', 'control', join(__dirname, '..', 'migrations'));
