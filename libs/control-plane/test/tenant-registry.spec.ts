import { loadConfig } from '@bulkhead/config';
import { randomUUID } from 'node:crypto';
import { TenantRecord } from '../src/registry/tenant.record';
import { TenantRegistry } from '../src/registry/tenant-registry';
import { TenantRepository } from '../src/registry/tenant.repository';

/**
 * A tenant change announced while a lookup of that tenant is in flight (every instance hears its
 * own announcement a moment later) must not fail the requests awaiting the lookup; and the next
 * lookup must see the change. The repository is a stand-in here: what is under test is the cache.
 */
describe('tenant registry cache', () => {
  const id = randomUUID();
  let status: TenantRecord['status'] = 'active';
  let release: () => void = () => undefined;
  const repository = {
    findById: (tenantId: string) =>
      new Promise<TenantRecord>((resolve) => {
        const record = { id: tenantId, status, externalRef: null } as TenantRecord;
        release = () => resolve(record);
      }),
  } as unknown as TenantRepository;
  const registry = new TenantRegistry(repository, loadConfig({ ...process.env, TENANT_CACHE_TTL_MS: '60000' }));

  it('answers a lookup that was in flight when the tenant was forgotten, and reloads afterwards', async () => {
    const inFlight = registry.resolveClaim(id);
    await new Promise((resolve) => setImmediate(resolve));
    status = 'suspended';
    registry.forget({ id, externalRef: null });
    release();
    await expect(inFlight).resolves.toMatchObject({ id, status: 'active' });

    const next = registry.resolveClaim(id);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await expect(next).resolves.toMatchObject({ id, status: 'suspended' });
  });
});
