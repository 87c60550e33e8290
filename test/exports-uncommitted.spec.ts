import { openPrivateJobQueue, type PrivateJobQueue } from './support/private-job-queue';
import { TenantRecord } from '@bulkhead/control-plane';
import { OrderExportsService } from '@bulkhead/sales';
import { runWithTenant, TenantData, tenantContextOf } from '@bulkhead/tenancy';
import { INestApplicationContext } from '@nestjs/common';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

class RolledBack extends Error {}

/**
 * An export's job is enqueued from the transaction that records the export, before its row. The
 * job of a transaction that rolled back must end at once, not wait JOBS_UNCOMMITTED_WAIT_MS (ten
 * minutes) holding a slot of its tenant; the job of one still open must wait for it, spending no
 * attempt, and run once it commits.
 */
describe('export jobs and the transaction that records the export', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let queue: PrivateJobQueue;

  beforeAll(async () => {
    queue = await openPrivateJobQueue('exports-uncommitted-test');
    api = await startTestApi();
    // Quick retries: a job that failed rather than waited would spend its five attempts within a second.
    worker = await startTestWorker({ JOBS_RETRY_BACKOFF_MS: '50' });
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await queue?.close();
  });

  /** Requests an export as the route does, inside a transaction scope of the test's (as an Idempotency-Key request has). */
  const requestInScope = (tenant: TenantRecord, around: (exportId: string) => Promise<void>) =>
    runWithTenant(tenantContextOf(tenant, 'u'), () =>
      api.app.get(TenantData).transactionScope(async () => {
        const requested = await api.app.get(OrderExportsService).request();
        await around(requested.id);
        return requested.id;
      }),
    );

  const jobStates = async (tenant: TenantRecord) => Promise.all((await queue.fq.bullJobIds(tenant.id)).map((id) => queue.bull.getJobState(id)));

  it('ends the job of an export whose transaction rolled back as soon as it runs, writing nothing and holding no slot', async () => {
    const tenant = await createTenant(api);
    let exportId = '';
    await expect(
      requestInScope(tenant, async (id) => {
        exportId = id;
        throw new RolledBack('the transaction rolls back (a quota race, a crash)');
      }),
    ).rejects.toBeInstanceOf(RolledBack);

    const states = await eventually(async () => {
      const current = await jobStates(tenant);
      return current.length === 1 && current[0] === 'completed' ? current : undefined;
    }, 'the rolled-back export job to end', 150);
    expect(states).toEqual(['completed']);
    expect((await queue.fq.tenantStats(tenant.id)).inFlight).toBe(0);
    expect((await call(api.server, 'get', `/v1/exports/${exportId}`, tokenFor(api, tenant))).status).toBe(404);
  });

  it('keeps the job of an export whose transaction is still open waiting, spending no attempt, and runs it once it commits', async () => {
    const tenant = await createTenant(api);
    const exportId = await requestInScope(tenant, async () => {
      // Longer than all five attempts take with these quick retries.
      await eventually(async () => ((await jobStates(tenant)).length === 1 ? true : undefined), 'the job in BullMQ');
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(await jobStates(tenant)).not.toContain('completed');
      expect(await jobStates(tenant)).not.toContain('failed');
    });
    const done = await eventually(async () => {
      const response = await call(api.server, 'get', `/v1/exports/${exportId}`, tokenFor(api, tenant));
      return response.body.status === 'pending' ? undefined : response.body;
    }, 'the export once its transaction committed');
    expect(done).toMatchObject({ status: 'completed', rowCount: 0 });
  });
});
