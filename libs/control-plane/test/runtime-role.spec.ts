import { loadConfig } from '@bulkhead/config';
import { DataSource } from 'typeorm';
import { UnsafeDatabaseRoleError } from '../src/placement/placement.errors';
import { assertRuntimeRoleIsBound } from '../src/placement/runtime-role.check';

/** The runtime role is checked at start: a role that could bypass RLS never serves tenant data. */
describe('runtime role check', () => {
  it('refuses to start with a role that could bypass RLS', async () => {
    const config = loadConfig();
    const superuser = new DataSource({ type: 'postgres', url: config.DATABASE_ADMIN_URL.replace(/\/[^/]*$/, '/' + config.DATABASE_URL.split('/').pop()) });
    await superuser.initialize();
    try {
      await expect(assertRuntimeRoleIsBound(superuser)).rejects.toBeInstanceOf(UnsafeDatabaseRoleError);
    } finally {
      await superuser.destroy();
    }
    const owner = new DataSource({ type: 'postgres', url: config.DATABASE_OWNER_URL });
    await owner.initialize();
    try {
      await expect(assertRuntimeRoleIsBound(owner)).rejects.toThrow(/owns/);
    } finally {
      await owner.destroy();
    }
    const runtime = new DataSource({ type: 'postgres', url: config.DATABASE_URL });
    await runtime.initialize();
    try {
      await expect(assertRuntimeRoleIsBound(runtime)).resolves.toBeUndefined();
    } finally {
      await runtime.destroy();
    }
  });
});
