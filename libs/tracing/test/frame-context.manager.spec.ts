import { runWithTenant, tenantContextOf, peekTenantId } from '@bulkhead/tenancy';
import { createFrameContextManager } from '@bulkhead/tracing';
import { createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';

const KEY = createContextKey('probe');
const tenant = (id: string) =>
  tenantContextOf({ id, slug: id.slice(0, 8), tier: 'free', isolation: 'pool', region: 'local', cluster: 'main', schemaName: null, databaseName: null }, 'test');
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

describe('FrameContextManager: the trace context beside the unit of work', () => {
  const manager = createFrameContextManager().enable();

  it('enters a context for a call and its awaits, keeping the tenant, and leaves both as they were after', async () => {
    const ctx = ROOT_CONTEXT.setValue(KEY, 'x');
    const seen = await runWithTenant(tenant(A), async () => {
      const inside = await manager.with(ctx, async () => {
        await new Promise((resolve) => setImmediate(resolve));
        return { value: manager.active().getValue(KEY), tenant: peekTenantId() };
      });
      return { inside, after: manager.active().getValue(KEY), tenant: peekTenantId() };
    });
    expect(seen).toEqual({ inside: { value: 'x', tenant: A }, after: undefined, tenant: A });
  });

  it('a function or emitter bound in one unit runs with its trace context but the unit it is called in', async () => {
    const ctx = ROOT_CONTEXT.setValue(KEY, 'bound-in-a');
    const emitter = new EventEmitter();
    const bound = await runWithTenant(tenant(A), async () => {
      manager.bind(ctx, emitter);
      return manager.bind(ctx, () => ({ value: manager.active().getValue(KEY), tenant: peekTenantId() }));
    });
    const seen = await runWithTenant(tenant(B), async () => {
      let heard: unknown;
      emitter.on('probe', () => (heard = { value: manager.active().getValue(KEY), tenant: peekTenantId() }));
      emitter.emit('probe');
      return { call: bound(), heard };
    });
    expect(seen).toEqual({ call: { value: 'bound-in-a', tenant: B }, heard: { value: 'bound-in-a', tenant: B } });
  });

  it('reads no context once disabled, until enabled again', async () => {
    const ctx = ROOT_CONTEXT.setValue(KEY, 'y');
    await manager.with(ctx, async () => {
      manager.disable();
      expect(manager.active()).toBe(ROOT_CONTEXT);
      manager.enable();
      expect(manager.active().getValue(KEY)).toBe('y');
    });
  });
});
