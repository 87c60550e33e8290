import { clearPrivateJobQueue } from './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { JobRun, JobRunObserver, JobRunObserverProvider } from '@bulkhead/jobs';
import { QuotaAlert, QuotaAlertHandler, QuotaAlertListener, UsageRecorder } from '@bulkhead/metering';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { INestApplicationContext, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const delivered: QuotaAlert[] = [];
const alertRuns: JobRun[] = [];

@Injectable()
@QuotaAlertListener()
class RecordingQuotaListener implements QuotaAlertHandler {
  async onQuotaAlert(alert: QuotaAlert): Promise<void> {
    delivered.push(alert);
  }
}

@Injectable()
@JobRunObserverProvider()
class AlertRunObserver implements JobRunObserver {
  observeJobRun(run: JobRun): void {
    if (run.name === 'metering.quota-alert') alertRuns.push(run);
  }
}

/** Quotas and the jobs around them, when writes roll back or race at the limit. */
describe('quota races', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let tenant: TenantRecord;
  let token: string;
  const PLANS = 'free:orders.created=5/month';

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi({ METERING_PLANS: PLANS });
    // Few and quick attempts: a job that cannot find its alert fails for good soon, as it would
    // after its retries; a retry covers a first run that met the crossing still in progress.
    worker = await startTestWorker({ METERING_PLANS: PLANS, JOBS_ATTEMPTS: '3', JOBS_RETRY_BACKOFF_MS: '100' }, [RecordingQuotaListener, AlertRunObserver]);
    tenant = await createTenant(api, { tier: 'free' });
    token = tokenFor(api, tenant);
  });
  afterAll(async () => {
    await worker.close();
    await api.close();
    await clearPrivateJobQueue();
  });

  const order = async (customerId: string) => (await call(api.server, 'post', '/v1/orders', token, { customerId, totalCents: 1, currency: 'EUR' })).status;

  // A quota alert's announcement belongs to the transaction that wrote the alert: a crossing
  // that rolled back must not stand in the way of the next crossing of the same threshold.
  it('ends the rolled-back crossing quietly, then announces the committed one exactly once', async () => {
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    for (let i = 0; i < 3; i += 1) expect(await order(customer.body.id)).toBe(201);

    // The fourth order crosses 80% (4 of 5), writes the alert and enqueues its job, then rolls back.
    const recorder = api.app.get(UsageRecorder);
    const rolledBack = runWithTenant(tenantContextOf(tenant, 'test'), () =>
      api.app.get(TenantData).transaction(async (tx) => {
        await recorder.record(tx, 'orders.created', { key: `orders.created:${randomUUID()}` });
        throw new Error('the order failed after its usage was recorded');
      }),
    );
    await expect(rolledBack).rejects.toThrow('the order failed');
    const ended = (run: JobRun) => run.outcome !== 'failed';
    const first = await eventually(async () => alertRuns.find(ended), 'the rolled-back crossing ran');
    expect(first.outcome).toBe('succeeded');
    expect(delivered).toEqual([]);

    // The same threshold crossed again, this time committed: heard once, with what was used.
    expect(await order(customer.body.id)).toBe(201);
    const heard = await eventually(async () => (delivered.length > 0 ? delivered : undefined), 'the committed crossing announced');
    expect(heard.map((alert) => [alert.tenantId, alert.threshold, alert.used, alert.limit])).toEqual([[tenant.id, 80, 4, 5]]);
    // The run is reported after its listeners were called.
    const runs = await eventually(async () => (alertRuns.filter(ended).length >= 2 ? alertRuns.filter(ended) : undefined), 'both runs reported');
    expect(runs.map((run) => run.outcome)).toEqual(['succeeded', 'succeeded']);
  });
});
