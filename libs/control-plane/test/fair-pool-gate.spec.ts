import { loadConfig } from '@bulkhead/config';
import { OverloadedProblem } from '../src/placement/placement.errors';
import { FairPoolGate, GateRequest } from '../src/placement/fair-pool-gate';

/** The gate's order and its shedding, decided by each tenant's share, never by global load. */
describe('fair pool gate', () => {
  const gateWith = (env: Record<string, string> = {}) =>
    // The governor's steps are taken by hand here (POOL_SATURATION_UTILISATION 0: no timer).
    new FairPoolGate(loadConfig({ ...process.env, TENANT_MAX_CONNECTIONS: '4', TENANT_MAX_QUEUE: '8', POOL_QUEUE_BUDGET_MS: '60000', POOL_SATURATION_UTILISATION: '0', ...env }));
  const on = (tenantId: string, weight = 1, critical = false): GateRequest => ({ pool: 'shared:main', capacity: 4, tenantId, weight, critical });

  it('hands a freed connection to a quiet tenant before a noisy tenant’s queue', async () => {
    const gate = gateWith();
    const order: string[] = [];
    for (let i = 0; i < 4; i++) await gate.enter(on('noisy'));
    const waits = [
      ...Array.from({ length: 6 }, (_, i) => gate.enter(on('noisy')).then(() => order.push(`noisy-${i}`))),
      gate.enter(on('quiet')).then(() => order.push('quiet')),
    ];
    gate.leave(on('noisy'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['quiet']);
    gate.leave(on('quiet'));
    for (let i = 0; i < 6; i++) gate.leave(on('noisy'));
    await Promise.all(waits);
    expect(order).toEqual(['quiet', 'noisy-0', 'noisy-1', 'noisy-2', 'noisy-3', 'noisy-4', 'noisy-5']);
  });

  it('while the process is saturated, holds the busiest tenant of a shared pool to fewer connections, and gives them back once it has room', async () => {
    const gate = gateWith();
    for (let i = 0; i < 3; i++) await gate.enter(on('noisy'));
    await gate.enter(on('quiet'));
    gate.leave(on('quiet'));
    await gate.enter(on('noisy'));
    expect(gate.snapshot().heldBack).toEqual({ shared: 0, silo: 0 });
    // Saturated, two tenants served: noisy holds 4 of 4, its share is 2: its limit drops to 3.
    gate.govern(true);
    // What metrics read: the held-back tenant, its units and the waiting one; no governor timer, no utilisation.
    expect(gate.snapshot()).toMatchObject({ active: { shared: 4, silo: 0 }, heldBack: { shared: 1, silo: 0 }, eventLoopUtilisation: undefined });
    const order: string[] = [];
    const next = gate.enter(on('noisy')).then(() => order.push('noisy'));
    gate.leave(on('noisy'));
    await new Promise((resolve) => setImmediate(resolve));
    // A connection is free, but noisy is at its limit: it waits, and the quiet tenant walks in.
    expect(order).toEqual([]);
    await gate.enter(on('quiet'));
    gate.leave(on('quiet'));
    // Room again: one step gives the limit back and the waiter its connection.
    gate.govern(false);
    await next;
    expect(order).toEqual(['noisy']);
    expect(gate.snapshot().heldBack).toEqual({ shared: 0, silo: 0 });
    for (let i = 0; i < 4; i++) gate.leave(on('noisy'));
  });

  it('never holds back a tenant alone, however busy the process', async () => {
    const gate = gateWith();
    for (let i = 0; i < 4; i++) await gate.enter(on('alone'));
    gate.govern(true);
    gate.govern(true);
    const next = gate.enter(on('alone'));
    gate.leave(on('alone'));
    await next;
    for (let i = 0; i < 4; i++) gate.leave(on('alone'));
  });

  it('lets a tenant alone use the whole pool beyond its cap, and caps it again once another waits', async () => {
    const gate = gateWith({ TENANT_MAX_CONNECTIONS: '2' });
    for (let i = 0; i < 4; i++) await gate.enter(on('alone'));
    const order: string[] = [];
    const waits = [gate.enter(on('alone')).then(() => order.push('alone')), gate.enter(on('other')).then(() => order.push('other'))];
    gate.leave(on('alone'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['other']);
    gate.leave(on('other'));
    await Promise.all(waits);
    expect(order).toEqual(['other', 'alone']);
    for (let i = 0; i < 4; i++) gate.leave(on('alone'));
  });

  it('shares connections by weight: the heavier tier gets the next connection while it holds less per weight', async () => {
    const gate = gateWith();
    await gate.enter(on('free', 1));
    await gate.enter(on('free', 1));
    await gate.enter(on('enterprise', 4));
    await gate.enter(on('enterprise', 4));
    const order: string[] = [];
    const waits = [gate.enter(on('free', 1)).then(() => order.push('free')), gate.enter(on('enterprise', 4)).then(() => order.push('enterprise'))];
    gate.leave(on('free', 1));
    await new Promise((resolve) => setImmediate(resolve));
    // free holds 1 of weight 1 (1.0), enterprise 2 of weight 4 (0.5): enterprise is further below its share.
    expect(order).toEqual(['enterprise']);
    gate.leave(on('enterprise', 4));
    await Promise.all(waits);
    expect(order).toEqual(['enterprise', 'free']);
  });

  it('refuses only the noisy tenant’s excess, and never another tenant', async () => {
    const gate = gateWith({ POOL_QUEUE_BUDGET_MS: '30' });
    for (let i = 0; i < 4; i++) await gate.enter(on('noisy'));
    const queued = Array.from({ length: 8 }, () => gate.enter(on('noisy', 1, true)));
    await expect(gate.enter(on('noisy'))).rejects.toBeInstanceOf(OverloadedProblem);
    expect(gate.snapshot()).toMatchObject({ waiting: { shared: 8, silo: 0 }, tenants: 1, shed: { excess: 1, timeout: 0 } });
    const quiet = gate.enter(on('quiet'));
    gate.leave(on('noisy'));
    await expect(quiet).resolves.toBeUndefined();
    gate.leave(on('quiet'));
    for (let i = 0; i < 11; i++) gate.leave(on('noisy'));
    await Promise.all(queued);
  });

  describe('the excess, held', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    // A client that ignores Retry-After sends its next request the moment it has the answer, and a
    // refusal costs the process about what serving does: answered at once, a flood past the queue
    // became a refusal storm. Held for the read budget, the excess comes back at most once per budget.
    it('is refused once the read budget has passed, never served, and never delays a queued request', async () => {
      const gate = gateWith({ POOL_QUEUE_BUDGET_MS: '1000' });
      for (let i = 0; i < 4; i++) await gate.enter(on('noisy'));
      const queued = Array.from({ length: 8 }, () => gate.enter(on('noisy', 1, true)));
      let refused: unknown;
      const excess = gate.enter(on('noisy')).catch((error: unknown) => (refused = error));
      await jest.advanceTimersByTimeAsync(999);
      expect(refused).toBeUndefined();
      // A connection freed meanwhile goes to the queue, not to the held excess.
      gate.leave(on('noisy'));
      await jest.advanceTimersByTimeAsync(1);
      await excess;
      expect(refused).toBeInstanceOf(OverloadedProblem);
      expect(gate.snapshot()).toMatchObject({ active: { shared: 4, silo: 0 }, waiting: { shared: 7, silo: 0 }, shed: { excess: 1, timeout: 0 } });
      for (let i = 0; i < 11; i++) gate.leave(on('noisy'));
      await Promise.all(queued);
    });

    it('up to eight times TENANT_MAX_QUEUE at once; beyond that it is refused at once, so memory stays bounded', async () => {
      const gate = gateWith({ POOL_QUEUE_BUDGET_MS: '1000' });
      for (let i = 0; i < 4; i++) await gate.enter(on('noisy'));
      const queued = Array.from({ length: 8 }, () => gate.enter(on('noisy', 1, true)));
      const held = Array.from({ length: 64 }, () => gate.enter(on('noisy')).catch((error: unknown) => error));
      await expect(gate.enter(on('noisy'))).rejects.toBeInstanceOf(OverloadedProblem);
      await jest.advanceTimersByTimeAsync(1000);
      for (const outcome of await Promise.all(held)) expect(outcome).toBeInstanceOf(OverloadedProblem);
      expect(gate.snapshot().shed).toEqual({ excess: 65, timeout: 0 });
      for (let i = 0; i < 12; i++) gate.leave(on('noisy'));
      await Promise.all(queued);
      // Nothing held or waiting is left: the tenant's lane is gone.
      expect(gate.snapshot()).toMatchObject({ tenants: 0, waiting: { shared: 0, silo: 0 } });
    });
  });

  it('sheds a read that waited past the budget, while a write waits on', async () => {
    const gate = gateWith({ POOL_QUEUE_BUDGET_MS: '30' });
    for (let i = 0; i < 4; i++) await gate.enter(on('busy'));
    const read = gate.enter(on('busy'));
    const write = gate.enter(on('busy', 1, true));
    await expect(read).rejects.toBeInstanceOf(OverloadedProblem);
    expect(gate.snapshot().shed).toEqual({ excess: 0, timeout: 1 });
    gate.leave(on('busy'));
    await expect(write).resolves.toBeUndefined();
    for (let i = 0; i < 4; i++) gate.leave(on('busy'));
  });
});
