export { createRedis, isCluster, keyspaceNodes, type RedisClient, type RedisClientOptions, type RedisTarget } from './redis-client';
export { assertRedisReachable } from './redis-reachable';
