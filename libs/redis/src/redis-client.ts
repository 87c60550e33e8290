import { BulkheadConfig } from '@bulkhead/config';
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';

/** A single Redis or a Redis Cluster: every Redis client of the platform is one of these. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, or the seeds of a Redis Cluster (REDIS_CLUSTER_NODES). */
export type RedisTarget = Pick<BulkheadConfig, 'REDIS_URL' | 'redisClusterNodes'>;

/**
 * Options of one client, as for a single Redis. For a cluster, `lazyConnect`,
 * `enableOfflineQueue` and `retryStrategy` apply to the cluster client (the latter as its
 * `clusterRetryStrategy`), everything else to each node's connection.
 */
export type RedisClientOptions = RedisOptions & { connectionName: string };

/**
 * The wait before each reconnection attempt, unless a client asks for another: at most 1 s, so a
 * process is connected again within 1 s of Redis returning, however long it was away. ioredis'
 * own schedule (50 ms more per attempt, up to 2 s) had the jobs' clients wait up to 2 s after an
 * outage of a minute, enqueueing refused with 503 all that time.
 */
function reconnectWithinASecond(attempt: number): number {
  return Math.min(attempt * 100, 1000);
}

/**
 * The one place a Redis client is made. Every key the platform uses on a multi-key command or
 * script shares a hash tag (`{fq:<queue>}` for the fair queue and BullMQ, `{<tenant id>}` for
 * the rate limiter and request counts), so the same code runs on one Redis and on a cluster.
 */
export function createRedis(target: RedisTarget, given: RedisClientOptions): RedisClient {
  const options = { retryStrategy: reconnectWithinASecond, ...given };
  if (!target.redisClusterNodes) return new Redis(target.REDIS_URL, options);
  const { lazyConnect, enableOfflineQueue, retryStrategy, ...nodeOptions } = options;
  const url = new URL(target.REDIS_URL);
  const clusterOptions: ClusterOptions = {
    lazyConnect,
    enableOfflineQueue,
    clusterRetryStrategy: retryStrategy ? (times) => retryStrategy(times) : undefined,
    // A failover or resharding answers MOVED/ASK or CLUSTERDOWN for a moment: follow, then retry briefly.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    redisOptions: {
      ...nodeOptions,
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      tls: url.protocol === 'rediss:' ? {} : undefined,
    },
  };
  return new Cluster(
    target.redisClusterNodes.map((node) => ({ host: node.host, port: node.port })),
    clusterOptions,
  );
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/**
 * The nodes to run a keyspace command (SCAN, FLUSHDB) on: every master of a cluster, or the one
 * Redis. A SCAN on a cluster client would only see one random node. A cluster client knows its
 * nodes only once connected (until then `nodes()` is empty and a scan would silently find
 * nothing), so this waits for that first.
 */
export async function keyspaceNodes(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  if (client.status !== 'ready') await client.ping();
  return client.nodes('master');
}
