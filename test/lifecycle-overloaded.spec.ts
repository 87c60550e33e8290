import { clearPrivateJobQueue } from './support/private-job-queue';
import { LifecycleService, SagaLedger, TenantSeeder, TenantSeederProvider } from '@bulkhead/lifecycle';
import { TenantData } from '@bulkhead/tenancy';
import { Injectable, INestApplicationContext } from '@nestjs/common';
import { uniqueSlug } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const seeds: Array<{ tenant: string; outcome: string }> = [];

/**
 * The first time, two units of work at once in a worker whose pool has one connection: the second
 * waits past the gate's budget and is shed (503 `overloaded`), as a step's writes are when the
 * process's connections are all held by others. Later runs need one connection.
 */
@TenantSeederProvider()
@Injectable()
class ContendedSeeder implements TenantSeeder {
  readonly name = 'test.contended-seeder';

  constructor(private readonly data: TenantData) {}

  async seed(tenant: { id: string }): Promise<void> {
    const first = !seeds.some((seed) => seed.tenant === tenant.id);
    try {
      if (first) {
        await Promise.all([
          this.data.transaction((tx) => tx.statement('SELECT pg_sleep(0.5), $1::uuid'), { readOnly: true }),
          this.data.transaction((tx) => tx.statement('SELECT $1::uuid'), { readOnly: true }),
        ]);
      }
      seeds.push({ tenant: tenant.id, outcome: 'ok' });
    } catch (error) {
      seeds.push({ tenant: tenant.id, outcome: (error as { code?: string }).code ?? String(error) });
      throw error;
    }
  }
}

/**
 * A saga step whose unit of work the process sheds (`overloaded`) met a passing state of the
 * platform, not a failure of its own: it runs again without counting against
 * LIFECYCLE_STEP_ATTEMPTS. Counted, a busy process turned onboardings to compensation (the
 * signup failed) after as many sheds.
 */
describe('a lifecycle step shed by the connection gate', () => {
  let worker: INestApplicationContext | undefined;

  beforeAll(() => clearPrivateJobQueue());
  afterAll(async () => {
    await worker?.close();
    await clearPrivateJobQueue();
  });

  it('is run again without counting as a failed attempt', async () => {
    worker = await startTestWorker(
      {
        DATABASE_POOL_MAX: '1',
        POOL_QUEUE_BUDGET_MS: '10',
        LIFECYCLE_STEP_ATTEMPTS: '1',
        LIFECYCLE_SWEEP_MS: '200',
        LIFECYCLE_LEASE_MS: '2000',
        JOBS_OUTAGE_BACKOFF_MS: '100',
        JOBS_OUTAGE_BACKOFF_MAX_MS: '200',
      },
      [ContendedSeeder],
    );
    const { saga } = await worker.get(LifecycleService).onboard({ slug: uniqueSlug('shed'), name: 'Shed', tier: 'free' }, 'operator', 'test');
    const ledger = worker.get(SagaLedger);
    const settled = await eventually(async () => {
      const current = await ledger.get(saga.id);
      return current && current.status !== 'running' && current.status !== 'compensating' ? current : undefined;
    }, 'the onboarding to settle', 300);
    expect(seeds[0]).toEqual({ tenant: saga.tenantId, outcome: 'overloaded' });
    expect({ status: settled.status, reason: settled.reason ?? null }).toEqual({ status: 'succeeded', reason: null });
  });
});
