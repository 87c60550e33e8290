import { loadConfig } from '@bulkhead/config';
import { isInfrastructureFailure } from '@bulkhead/problem';
import { createRedis, isCluster, type RedisClient } from '@bulkhead/redis';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { bindTakeScript } from '../src/rate-limit.script';
import { ratePolicy } from '../src/rate-policy';
import { countsKey, limiterKey, minuteOf } from '../src/request-count.keys';
import { batchTakes } from '../src/take-batch';

/** Takes asked for in one turn of the event loop share a pipeline; each is still decided and answered on its own. */
describe('batchTakes', () => {
  const policy = ratePolicy('read', 5);
  let redis: RedisClient;
  const keys: string[] = [];

  beforeAll(() => {
    redis = createRedis(loadConfig(), { maxRetriesPerRequest: 1, connectionName: 'take-batch-test' });
  });
  afterAll(async () => {
    // One by one: on Redis Cluster the keys of two tenants live in different slots.
    for (const key of keys) await redis.del(key);
    redis.disconnect();
  });

  const takeFor = (take: ReturnType<typeof bindTakeScript>, tenant: string) => {
    const key = limiterKey(tenant, 'read');
    const counts = countsKey(tenant, minuteOf(Date.now()));
    keys.push(key, counts);
    return () => take(key, counts, policy.intervalUs, policy.capacityUs, 'read', 3600, 1, 0, 0);
  };

  it('sends one turn of takes in one socket write, each answered as if alone and in order', async () => {
    const take = bindTakeScript(redis);
    const batched = batchTakes(redis, take);
    if (isCluster(redis)) {
      // A pipeline must stay on one node; takes for different tenants live on different nodes.
      expect(batched).toBe(take);
      return;
    }
    await redis.ping();
    const stream = (redis as unknown as { stream: Socket }).stream;
    const write = jest.spyOn(stream, 'write');
    const busy = takeFor(batched, randomUUID());
    const quiet = takeFor(batched, randomUUID());
    // Eight for a tenant allowed five, interleaved with two for another tenant, all in one turn.
    const calls = [busy(), busy(), quiet(), busy(), busy(), busy(), busy(), quiet(), busy(), busy()];
    const replies = await Promise.all(calls);
    expect(write).toHaveBeenCalledTimes(1);
    write.mockRestore();
    expect(replies.map(([allowed, remaining]) => [allowed, remaining])).toEqual([
      [1, 4],
      [1, 3],
      [1, 4],
      [1, 2],
      [1, 1],
      [1, 0],
      [0, 0],
      [1, 3],
      [0, 0],
      [0, 0],
    ]);
    // A take on its own (nothing else in its turn) goes straight out, and is decided the same way.
    const [allowed] = await busy();
    expect(allowed).toBe(0);
  });

  it('fails every take of a batch with an infrastructure failure when Redis cannot be written', async () => {
    const unreachable = createRedis(
      { REDIS_URL: 'redis://127.0.0.1:1', redisClusterNodes: null },
      { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null, connectionName: 'take-batch-unreachable' },
    );
    unreachable.on('error', () => undefined);
    try {
      const batched = batchTakes(unreachable, bindTakeScript(unreachable));
      const tenant = randomUUID();
      const key = limiterKey(tenant, 'read');
      const counts = countsKey(tenant, minuteOf(Date.now()));
      const outcomes = await Promise.allSettled(
        [1, 2, 3].map(() => batched(key, counts, policy.intervalUs, policy.capacityUs, 'read', 3600, 1, 0, 0)),
      );
      expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const outcome of outcomes) expect(isInfrastructureFailure((outcome as PromiseRejectedResult).reason)).toBe(true);
    } finally {
      unreachable.disconnect();
    }
  });

  it('fails the unanswered takes of a batch cut off mid-answer as an outage, not as a bug', async () => {
    // A stand-in Redis that answers the batch's first take and then drops the connection: ioredis
    // aborts the rest of a pipeline it had begun to receive, which a take sent alone never sees.
    const server = createServer((socket) =>
      socket.once('data', () => socket.write('*6\r\n:1\r\n:4\r\n:0\r\n:0\r\n:1\r\n:0\r\n', () => setTimeout(() => socket.destroy(), 50))),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new Redis({
      port: (server.address() as AddressInfo).port,
      host: '127.0.0.1',
      // Nothing of its own on connect (no ready check, no CLIENT SETINFO): the batch is the first thing it reads.
      enableReadyCheck: false,
      disableClientInfo: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 1000,
    });
    client.on('error', () => undefined);
    try {
      await new Promise((resolve) => client.once('ready', resolve));
      const batched = batchTakes(client, bindTakeScript(client));
      const tenant = randomUUID();
      const key = limiterKey(tenant, 'read');
      const counts = countsKey(tenant, minuteOf(Date.now()));
      const outcomes = await Promise.allSettled(
        [1, 2, 3, 4].map(() => batched(key, counts, policy.intervalUs, policy.capacityUs, 'read', 3600, 1, 0, 0)),
      );
      expect(outcomes[0]).toEqual({ status: 'fulfilled', value: [1, 4, 0, 0, 1, 0] });
      expect(outcomes.slice(1).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'rejected']);
      for (const outcome of outcomes.slice(1)) {
        const { reason } = outcome as PromiseRejectedResult;
        expect(isInfrastructureFailure(reason)).toBe(true);
      }
    } finally {
      client.disconnect();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
