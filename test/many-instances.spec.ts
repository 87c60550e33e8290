import { clearPrivateJobQueue } from './support/private-job-queue';
import { loadConfig } from '@bulkhead/config';
import { FairQueueKeys } from '@bulkhead/fair-queue';
import { createRedis, keyspaceNodes, RedisClient } from '@bulkhead/redis';
import { ApiProcess, startApiProcess, startWorkerProcess, waitUntilAnswering } from './support/api-process';
import { freePort } from './support/fault-services';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually } from './support/test-worker';

interface ServedApi extends ApiProcess {
  readonly url: string;
}

/** Cached tenant lookups outlive the whole suite: only the change feed can make an instance forget one. */
const INSTANCE_ENV = { TENANT_CACHE_TTL_MS: '60000', RATE_LIMIT_FREE: 'read:6000,write:6000,export:6000,ingest:60' };

async function startServedApi(): Promise<ServedApi> {
  const port = await freePort();
  return { ...startApiProcess({ ...INSTANCE_ENV, PORT: String(port) }), url: `http://127.0.0.1:${port}` };
}

async function stop(process: ApiProcess): Promise<void> {
  if (process.child.exitCode !== null) return;
  process.child.kill('SIGTERM');
  await process.exited;
}

/**
 * Two API processes and two worker processes (the real `main.ts` of each) against one database and
 * one Redis (a cluster under `test:redis-cluster`): a tenant change reaches every instance at once,
 * and jobs enqueued through either API run on either worker, each exactly once.
 */
describe('many API and worker instances', () => {
  let admin: TestApi;
  let apis: ServedApi[] = [];
  let workers: ApiProcess[] = [];
  let redis: RedisClient;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    redis = createRedis(loadConfig(), { maxRetriesPerRequest: 1, connectionName: 'many-instances-test' });
    admin = await startTestApi(INSTANCE_ENV);
    // One at a time: four processes compiling at once on a small machine take minutes.
    for (let i = 0; i < 2; i++) {
      const api = await startServedApi();
      apis.push(api);
      await waitUntilAnswering(api, `${api.url}/health/live`, 600);
    }
    for (let i = 0; i < 2; i++) {
      const worker = startWorkerProcess({ ...INSTANCE_ENV, LOG_LEVEL: 'info' });
      workers.push(worker);
      await eventually(async () => {
        if (worker.child.exitCode !== null) throw new Error(`worker exited: ${worker.output()}`);
        return worker.output().includes('worker started') ? true : undefined;
      }, 'the worker processes to start', 1800);
    }
  }, 600_000);
  afterAll(async () => {
    await Promise.all([...apis, ...workers].map(stop));
    await admin?.close();
    await clearPrivateJobQueue();
    redis?.disconnect();
  });

  it('drops a changed tenant from every instance at once (change feed), not after the cache TTL', async () => {
    const tenant = await createTenant(admin);
    const token = tokenFor(admin, tenant);
    const get = (api: ServedApi) => fetch(`${api.url}/v1/customers`, { headers: { Authorization: `Bearer ${token}` } });
    // Each instance has the tenant cached as active.
    for (const api of apis) expect((await get(api)).status).toBe(200);

    const suspended = await fetch(`${apis[0].url}/v1/admin/tenants/${tenant.id}/suspend`, { method: 'POST', headers: { Authorization: `Bearer ${operatorToken(admin)}` } });
    expect(suspended.status).toBe(200);

    // Pub/sub delivery takes milliseconds; the cache TTL is a minute.
    for (const api of apis) {
      const status = await eventually(async () => {
        const response = await get(api);
        await response.arrayBuffer();
        return response.status === 403 ? response.status : undefined;
      }, 'the suspension to reach every instance', 50);
      expect(status).toBe(403);
    }
  }, 60_000);

  it('runs jobs enqueued through either API on either worker, each started exactly once', async () => {
    const tenants = await Promise.all([createTenant(admin), createTenant(admin), createTenant(admin)]);
    const exports: Array<{ token: string; id: string }> = [];
    for (let round = 0; round < 6; round++) {
      for (const [i, tenant] of tenants.entries()) {
        const token = tokenFor(admin, tenant);
        const response = await fetch(`${apis[(round + i) % 2].url}/v1/exports`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        expect(response.status).toBe(202);
        exports.push({ token, id: ((await response.json()) as { id: string }).id });
      }
    }
    for (const job of exports) {
      await eventually(async () => {
        const response = await fetch(`${apis[0].url}/v1/exports/${job.id}`, { headers: { Authorization: `Bearer ${job.token}` } });
        const body = (await response.json()) as { status: string };
        return body.status === 'completed' ? true : undefined;
      }, `export ${job.id} to complete`, 600);
    }

    // BullMQ counts each job's starts (`ats`), its attempts that ended (`atm`: failed or completed)
    // and its stalls (`stc`). A job run by a second worker while the first still held it, or rerun
    // after a lost lock, stalls. (An export job can run before its request's transaction has
    // committed: it finds no row and waits, parked without spending an attempt, so it is started
    // more often than its attempts ended, without stalling; that is no second run.)
    const keys = new FairQueueKeys(loadConfig().JOBS_QUEUE_NAME, 'jobs');
    const pattern = `${keys.bullJobPrefix.replace(/[{}[\]*?\\]/g, (c) => `\\${c}`)}*`;
    const jobKeys: string[] = [];
    for (const node of await keyspaceNodes(redis)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        jobKeys.push(...found.filter((key) => !key.slice(keys.bullJobPrefix.length).includes(':')));
      } while (cursor !== '0');
    }
    const finished: Array<{ key: string; starts: number; attempts: number; stalls: number }> = [];
    for (const key of jobKeys) {
      if ((await redis.type(key)) !== 'hash') continue;
      const [finishedOn, starts, attempts, stalls] = await redis.hmget(key, 'finishedOn', 'ats', 'atm', 'stc');
      if (finishedOn === null) continue;
      finished.push({ key, starts: Number(starts ?? 0), attempts: Number(attempts ?? 0), stalls: Number(stalls ?? 0) });
    }
    expect(finished.length).toBeGreaterThanOrEqual(exports.length);
    expect(finished.filter((job) => job.starts < job.attempts || job.attempts < 1 || job.stalls !== 0)).toEqual([]);
  }, 180_000);
});
