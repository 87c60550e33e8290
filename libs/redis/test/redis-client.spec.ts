import { loadConfig } from '@bulkhead/config';
import { FairQueueKeys } from '@bulkhead/fair-queue';
import { createRedis, isCluster, keyspaceNodes, RedisClient } from '@bulkhead/redis';
import { Cluster } from 'ioredis';
import { randomUUID } from 'node:crypto';

/**
 * The factory gives what the settings name (under `npm run test:redis-cluster` a cluster of three
 * masters, otherwise the single Redis), and what the platform relies on holds on it.
 */
describe('Redis clients', () => {
  const config = loadConfig();
  const clients: RedisClient[] = [];
  const client = (name: string) => {
    const made = createRedis(config, { maxRetriesPerRequest: 1, connectionName: name });
    clients.push(made);
    return made;
  };
  afterAll(() => clients.forEach((c) => c.disconnect()));

  it('is a cluster client exactly when REDIS_CLUSTER_NODES is set', async () => {
    const redis = client('factory-test');
    expect(isCluster(redis)).toBe(config.redisClusterNodes !== null);
    await redis.ping();
    if (isCluster(redis)) expect((await keyspaceNodes(redis)).length).toBeGreaterThanOrEqual(3);
    else expect(await keyspaceNodes(redis)).toEqual([redis]);
  });

  it('seeds of a cluster become a Cluster client with the URL credentials', () => {
    const redis = createRedis(
      { REDIS_URL: 'redis://user:s%40cret@127.0.0.1:1', redisClusterNodes: [{ host: '127.0.0.1', port: 1 }] },
      { lazyConnect: true, connectionName: 'seeds-test' },
    );
    expect(redis).toBeInstanceOf(Cluster);
    expect((redis as Cluster).options.redisOptions).toMatchObject({ username: 'user', password: 's@cret', connectionName: 'seeds-test' });
    redis.disconnect();
  });

  it('delivers a change-feed message published on one client to a subscriber on another', async () => {
    const publisher = client('feed-pub');
    const subscriber = client('feed-sub');
    const channel = `bulkhead:test:${randomUUID()}`;
    const received = new Promise<string>((resolve) => subscriber.on('message', (_channel: string, message: string) => resolve(message)));
    await subscriber.subscribe(channel);
    await publisher.publish(channel, 'changed');
    await expect(received).resolves.toBe('changed');
  });

  it('runs a multi-key transaction on the keys of one fair queue (one hash tag, one slot)', async () => {
    const redis = client('tag-test');
    const keys = new FairQueueKeys(`t-${randomUUID().slice(0, 8)}`);
    const tenant = randomUUID();
    const results = await redis.multi().rpush(keys.buffer(tenant), 'a').sadd(keys.inflight(tenant), 'b').zadd(keys.active, 1, tenant).exec();
    expect(results?.every(([error]) => error === null)).toBe(true);
    await redis.del(keys.buffer(tenant), keys.inflight(tenant), keys.active);
  });
});
