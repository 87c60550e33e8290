import { loadConfig } from '@bulkhead/config';
import { createRedis, type RedisClient } from '@bulkhead/redis';
import { randomUUID } from 'node:crypto';
import { LocalRateLimiter } from '../src/local-rate-limiter';
import { ratePolicy } from '../src/rate-policy';
import { countsKey, limiterKey, minuteOf } from '../src/request-count.keys';
import { bindTakeScript } from '../src/rate-limit.script';

const QUOTA = 3;
const INTERVAL_MS = 60_000 / QUOTA;

/** The GCRA both limiters run: the Redis script (on the real Redis) and its in-process twin. */
describe('GCRA', () => {
  const policy = ratePolicy('read', QUOTA);

  it('states the policy as the IETF RateLimit-Policy item', () => {
    expect(policy).toMatchObject({ quota: 3, intervalUs: 20_000_000, capacityUs: 60_000_000, header: '"read";q=3;w=60' });
    // A quota that does not divide the window: the interval rounds to the microsecond, never to 0.
    expect(ratePolicy('write', 7).intervalUs).toBe(8_571_429);
    expect(ratePolicy('ingest', 6_000_000).intervalUs).toBe(10);
  });

  it('in process: a quiet tenant spends its quota at once, then one request per interval', () => {
    const limiter = new LocalRateLimiter();
    const start = 1_000_000_000_000_000;
    const burst = [0, 1, 2, 3].map(() => limiter.take('k', policy, start));
    expect(burst.map((decision) => [decision.allowed, decision.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(burst[3].retryAfterMs).toBe(INTERVAL_MS);
    expect(burst[2].resetMs).toBe(60_000);
    expect(limiter.take('k', policy, start + (INTERVAL_MS - 1) * 1000).allowed).toBe(false);
    expect(limiter.take('k', policy, start + INTERVAL_MS * 1000)).toMatchObject({ allowed: true, remaining: 0 });
    // Another key is another tenant: untouched.
    expect(limiter.take('other', policy, start)).toMatchObject({ allowed: true, remaining: 2 });
  });

  describe('in Redis', () => {
    let redis: RedisClient;
    const tenant = randomUUID();
    const keys = [limiterKey(tenant, 'read'), countsKey(tenant, minuteOf(Date.now())), countsKey(tenant, minuteOf(Date.now()) + 1)];

    beforeAll(() => {
      redis = createRedis(loadConfig(), { maxRetriesPerRequest: 1, connectionName: 'gcra-test' });
    });
    afterAll(async () => {
      // One by one: on Redis Cluster the keys of two tenants live in different slots.
      for (const key of keys) await redis.del(key);
      redis.disconnect();
    });

    it('decides like the in-process twin, counts each request once, and expires what it stores', async () => {
      const take = bindTakeScript(redis);
      const minute = minuteOf(Date.now());
      const replies = [];
      for (let i = 0; i <= QUOTA; i++) replies.push(await take(keys[0], countsKey(tenant, minute), policy.intervalUs, policy.capacityUs, 'read', 3600, 1, 0, 0));
      expect(replies.map(([allowed, remaining]) => [allowed, remaining])).toEqual([
        [1, 2],
        [1, 1],
        [1, 0],
        [0, 0],
      ]);
      const [, , resetMs, retryAfterMs] = replies[QUOTA];
      // Redis's clock moved a little between the calls: within a second of the exact values.
      expect(retryAfterMs).toBeGreaterThan(INTERVAL_MS - 1000);
      expect(retryAfterMs).toBeLessThanOrEqual(INTERVAL_MS);
      expect(resetMs).toBeGreaterThan(60_000 - 1000);
      expect(resetMs).toBeLessThanOrEqual(60_000);

      // The state keeps every digit of its microseconds and lives until the allowance is whole.
      const stored = await redis.get(keys[0]);
      expect(stored).toMatch(/^\d{16}$/);
      expect(await redis.pttl(keys[0])).toBeGreaterThan(58_000);
      const counts = await redis.hgetall(countsKey(tenant, minute));
      expect(counts).toEqual({ read: '3', 'read:refused': '1' });
      expect(await redis.ttl(countsKey(tenant, minute))).toBeGreaterThan(3500);
    });

    it('grants a lease of at most a sixteenth of what fits, takes unused requests back, and decides alone near the limit', async () => {
      const lease = ratePolicy('read', 1600);
      const owner = randomUUID();
      const key = limiterKey(owner, 'read');
      const counts = countsKey(owner, minuteOf(Date.now()));
      keys.push(key, counts);
      const take = bindTakeScript(redis);
      // 1,600 fit: 500 wanted, 100 granted (this request included), and the allowance says so.
      const [allowed, remaining, , , granted, tatUs] = await take(key, counts, lease.intervalUs, lease.capacityUs, 'read', 3600, 500, 0, 0);
      expect([allowed, granted]).toEqual([1, 100]);
      expect(remaining).toBe(1500);
      // Only the deciding request is counted here; the instance counts the leased ones as it admits them.
      expect(await redis.hgetall(counts)).toEqual({ read: '1' });

      // Slots already in the past are never given back (they were refilled): a grant whose schedule ended long ago returns nothing.
      const [, unchanged] = await take(key, counts, lease.intervalUs, lease.capacityUs, 'read', 3600, 0, 99 * lease.intervalUs, 1);
      // (Redis's clock moves on between the calls: a request fits again every 37.5 ms; a refund would have given 99 at once.)
      expect(unchanged).toBeGreaterThanOrEqual(1500);
      expect(unchanged).toBeLessThan(1550);
      // Giving back 99 unused requests: the allowance is (nearly: Redis's clock moved) whole again, nothing counted.
      const [, afterRefund, , , none] = await take(key, counts, lease.intervalUs, lease.capacityUs, 'read', 3600, 0, 99 * lease.intervalUs, tatUs);
      expect(none).toBe(0);
      expect(afterRefund).toBeGreaterThanOrEqual(1599);
      expect(await redis.hgetall(counts)).toEqual({ read: '1' });
      // Giving back more than was taken never makes the allowance larger than the quota.
      const [, capped] = await take(key, counts, lease.intervalUs, lease.capacityUs, 'read', 3600, 0, 10_000 * lease.intervalUs, Number.MAX_SAFE_INTEGER);
      expect(capped).toBe(1600);
      expect(await redis.get(key)).toBeNull();

      // Spend all but 20: with fewer than 32 left a lease is one request, the one being decided.
      const [seconds, micros] = await redis.time();
      await redis.set(key, String(Number(seconds) * 1_000_000 + Number(micros) + (1600 - 20) * lease.intervalUs));
      const near = await take(key, counts, lease.intervalUs, lease.capacityUs, 'read', 3600, 500, 0, 0);
      expect(near[0]).toBe(1);
      expect(near[4]).toBe(1);
    });
  });
});

describe('the in-process limiter under many tenants', () => {
  it('forgets keys whose allowance is whole again once it holds many', () => {
    const limiter = new LocalRateLimiter();
    const policy = ratePolicy('read', 60);
    const start = 1_000_000_000_000_000;
    for (let i = 0; i < 50_000; i++) limiter.take(`old-${i}`, policy, start);
    expect(limiter.size).toBe(50_000);
    // A minute later every old allowance is whole: the next new key sweeps them all.
    limiter.take('new', policy, start + 61_000_000);
    expect(limiter.size).toBe(1);
  });
});
