import './support/private-job-queue';
import { randomUUID } from 'node:crypto';
import { AuditVerifier, PLATFORM_TRAIL_ID } from '@bulkhead/audit';
import { loadConfig } from '@bulkhead/config';
import { TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { LifecycleEvent, LifecycleEventHandler, LifecycleEventHandlerProvider, LifecycleOutbox } from '@bulkhead/lifecycle';
import { INestApplicationContext, Injectable } from '@nestjs/common';
import { clearPrivateJobQueue } from './support/private-job-queue';
import { uniqueSlug } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

/** Tenants whose events this suite's second handler refuses (a consumer that cannot reach them). */
const unreachable = new Set<string>();

@Injectable()
@LifecycleEventHandlerProvider()
class FlakyConsumer implements LifecycleEventHandler {
  readonly name = 'flaky-consumer';

  async handle(event: LifecycleEvent): Promise<void> {
    if (unreachable.has(event.tenantId)) throw new Error(`tenant ${event.tenantId} unreachable`);
  }
}

/** The lifecycle outbox: at least once, no event starved by failing ones, each consumer's effect counted once. */
describe('lifecycle outbox', () => {
  const config = loadConfig();
  const superuser = withDatabase(config.DATABASE_ADMIN_URL, parsePgUrl(config.DATABASE_URL).database);
  let worker: INestApplicationContext;
  let outbox: LifecycleOutbox;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    // The suite drives delivery rounds itself: no sweep of the worker's own runs meanwhile.
    worker = await startTestWorker({ LIFECYCLE_SWEEP_MS: '3600000' }, [FlakyConsumer]);
    outbox = worker.get(LifecycleOutbox);
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await clearPrivateJobQueue();
  });

  const tenant = (): Promise<TenantRecord> => worker.get(TenantAdmin).create({ slug: uniqueSlug('outbox'), name: 'Outbox', tier: 'free' });
  const sql = <R extends Record<string, unknown>>(text: string, values: unknown[] = []) => withPg(superuser, 'outbox-test', async (c) => (await c.query<R>(text, values)).rows);
  const deliveredAt = async (id: string) => (await sql<{ delivered_at: Date | null }>('SELECT delivered_at FROM lifecycle_outbox WHERE id = $1', [id]))[0]?.delivered_at ?? null;
  /** Makes every failed event due again now, as if its backoff had passed. */
  const backoffPassed = () => sql('UPDATE lifecycle_outbox SET next_attempt_at = now() WHERE delivered_at IS NULL');

  it('delivers a new event past a hundred older ones that keep failing, and backs the failing ones off', async () => {
    const stuck = await tenant();
    unreachable.add(stuck.id);
    const failing: string[] = [];
    for (let i = 0; i < 120; i++) failing.push(await outbox.record(randomUUID(), 'tenant.offboarded', stuck.id, { n: i }));
    const healthy = await tenant();
    const fresh = await outbox.record(randomUUID(), 'tenant.offboarded', healthy.id, {});

    for (let round = 0; round < 3 && !(await deliveredAt(fresh)); round++) await outbox.deliver();
    expect(await deliveredAt(fresh)).not.toBeNull();

    // Every failing event was tried, and waits before its next try, longer after each failure.
    const tried = await sql<{ attempts: number; waits: boolean }>('SELECT attempts, next_attempt_at > now() AS waits FROM lifecycle_outbox WHERE id = ANY($1::uuid[])', [failing]);
    expect(tried.every((row) => row.attempts === 1 && row.waits)).toBe(true);
    const waitOf = async (id: string) =>
      (await sql<{ attempts: number; wait: number }>('SELECT attempts, extract(epoch FROM next_attempt_at - now())::float8 AS wait FROM lifecycle_outbox WHERE id = $1', [id]))[0];
    const first = await waitOf(failing[0]);
    await outbox.deliver();
    expect((await waitOf(failing[0])).attempts).toBe(1);
    await sql('UPDATE lifecycle_outbox SET next_attempt_at = now() WHERE id = $1', [failing[0]]);
    await outbox.deliver();
    const second = await waitOf(failing[0]);
    expect(second.attempts).toBe(2);
    expect(second.wait).toBeGreaterThan(first.wait);

    // At least once: once the consumer reaches the tenant again, every one is delivered.
    unreachable.delete(stuck.id);
    await backoffPassed();
    for (let round = 0; round < 3; round++) await outbox.deliver();
    const left = await sql<{ n: number }>('SELECT count(*)::int AS n FROM lifecycle_outbox WHERE id = ANY($1::uuid[]) AND delivered_at IS NULL', [failing]);
    expect(left[0].n).toBe(0);
  });

  it('records an activation once in the platform chain and the tenant chain however often it is delivered', async () => {
    const activated = await tenant();
    unreachable.add(activated.id);
    const eventId = await outbox.record(randomUUID(), 'tenant.activated', activated.id, {});
    // An event older than entries already chained: its entries, timed as the event, chain after them.
    await sql("UPDATE lifecycle_outbox SET created_at = now() - interval '1 hour' WHERE id = $1", [eventId]);
    for (let round = 0; round < 3; round++) {
      await outbox.deliver();
      await backoffPassed();
    }
    unreachable.delete(activated.id);
    await outbox.deliver();
    expect(await deliveredAt(eventId)).not.toBeNull();
    // A round killed after its handlers ran and before it marked the event delivered: delivered again.
    await sql('UPDATE lifecycle_outbox SET delivered_at = NULL, next_attempt_at = now() WHERE id = $1', [eventId]);
    await outbox.deliver();
    expect(await deliveredAt(eventId)).not.toBeNull();

    const entries = (trail: string) =>
      sql<{ n: number }>("SELECT count(*)::int AS n FROM audit_entries WHERE tenant_id = $1 AND action = 'lifecycle.activated' AND entry LIKE $2", [trail, `%"eventId":"${eventId}"%`]);
    expect((await entries(PLATFORM_TRAIL_ID))[0].n).toBe(1);
    expect((await entries(activated.id))[0].n).toBe(1);
    // Linked into both chains, which verify whole.
    await eventually(async () => {
      const linked = await sql<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_entries e JOIN audit_links l ON l.tenant_id = e.tenant_id AND l.id = e.id WHERE e.tenant_id = ANY($1::uuid[]) AND e.action = 'lifecycle.activated' AND e.entry LIKE $2",
        [[PLATFORM_TRAIL_ID, activated.id], `%"eventId":"${eventId}"%`],
      );
      return linked[0].n === 2 ? true : undefined;
    }, 'both entries linked');
    const verifier = worker.get(AuditVerifier);
    expect(await verifier.verifyPlatform(undefined)).toMatchObject({ ok: true, problem: null });
    expect(await verifier.verifyTenant(activated, undefined)).toMatchObject({ ok: true, problem: null });
  });
});
