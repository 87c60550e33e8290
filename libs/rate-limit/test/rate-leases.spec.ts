import { loadConfig } from '@bulkhead/config';
import { randomUUID } from 'node:crypto';
import { RateLeases } from '../src/rate-leases';
import { ratePolicy } from '../src/rate-policy';
import { RateLimitRedis } from '../src/rate-limit.redis';
import { countsKey, limiterKey, minuteOf } from '../src/request-count.keys';
import { TenantRateLimiter } from '../src/tenant-rate-limiter';

describe('rate leases (in process)', () => {
  const policy = ratePolicy('read', 60_000);
  const key = 'rl:{t}:read';
  const grant = (granted: number, remaining = 1000) => ({ granted, remaining, resetMs: 1000, tatUs: 5_000_000 });

  it('admits a granted lease here, sized to demand, growing at most fourfold per grant, one lease request at a time', () => {
    const leases = new RateLeases(100);
    const first = leases.claim(key, policy, 0);
    expect(first).toEqual({ wanted: 1, refund: null });
    expect(leases.install(key, 't', policy, first, grant(1, 59_999), 0).remaining).toBe(59_999);
    // Nothing leased ahead: the next request asks Redis again, for more: it came 1 ms later.
    expect(leases.admit(key, policy, 1)).toBeNull();
    const second = leases.claim(key, policy, 1);
    expect(second).toEqual({ wanted: 4, refund: null });
    // Meanwhile another request on this instance asks for itself alone.
    expect(leases.claim(key, policy, 1)).toEqual({ wanted: 1, refund: null });
    // Granted 4: this request and 3 more; the client sees the leased ones as still there.
    expect(leases.install(key, 't', policy, second, grant(4, 59_995), 2).remaining).toBe(59_998);
    const admitted = [3, 4, 5].map((now) => leases.admit(key, policy, now));
    expect(admitted.map((decision) => decision?.remaining)).toEqual([59_997, 59_996, 59_995]);
    expect(leases.admit(key, policy, 6)).toBeNull();
    // 4 used in 4 ms: 100 over a 100 ms lease, but at most fourfold the last.
    expect(leases.claim(key, policy, 6).wanted).toBe(16);
  });

  it('gives an ended lease back: expired, or when the tenant is under another policy', () => {
    const leases = new RateLeases(100);
    leases.install(key, 't', policy, { wanted: 10, refund: null }, grant(10), 0);
    expect(leases.admit(key, policy, 50)).not.toBeNull();
    // A lowered limit (noisy throttle) is a new policy: the lease stops at once and its 8 unused go back.
    const lowered = ratePolicy('read', 30_000);
    expect(leases.admit(key, lowered, 51)).toBeNull();
    expect(leases.claim(key, lowered, 51).refund).toEqual({ key, tenantId: 't', policy, refundUs: 8 * policy.intervalUs, tatUs: 5_000_000 });

    leases.install(key, 't', policy, { wanted: 10, refund: null }, grant(10), 200);
    expect(leases.admit(key, policy, 300)).toBeNull();
    expect(leases.sweep(300)).toEqual([{ key, tenantId: 't', policy, refundUs: 9 * policy.intervalUs, tatUs: 5_000_000 }]);
    // Given back once only.
    expect(leases.sweep(301)).toEqual([]);
    // The estimate is the demand, not the lease: one request in that lease, so the next asks for one.
    expect(leases.claim(key, policy, 400)).toEqual({ wanted: 1, refund: null });
  });

  it('forgets long-ended leases, and grants none once closed or with RATE_LIMIT_LEASE_MS=0', () => {
    const leases = new RateLeases(100);
    leases.install(key, 't', policy, { wanted: 1, refund: null }, grant(1), 0);
    leases.install(key, 't', policy, { wanted: 4, refund: null }, grant(4), 1);
    leases.sweep(1200);
    expect(leases.claim(key, policy, 1200)).toEqual({ wanted: 1, refund: null });

    leases.install(key, 't', policy, { wanted: 1, refund: null }, grant(1), 1300);
    expect(leases.claim(key, policy, 1301).wanted).toBe(4);
    expect(leases.close()).toEqual([]);
    expect(leases.claim(key, policy, 1302)).toEqual({ wanted: 1, refund: null });

    const none = new RateLeases(0);
    none.install(key, 't', policy, { wanted: 1, refund: null }, grant(1), 0);
    expect(none.claim(key, policy, 0.001)).toEqual({ wanted: 1, refund: null });
    expect(none.admit(key, policy, 0.001)).toBeNull();
  });
});

/** Two limiters are two API instances on one (real) Redis. */
describe('rate leases across two instances', () => {
  const QUOTA = 3000;
  // A generous timeout: this measures the leases, not the fallback a slow reply would switch to
  // (and a grant whose reply timed out is lost with it, which would make the quota look short).
  const config = loadConfig({ RATE_LIMIT_FREE: `read:${QUOTA},write:5,export:1,ingest:1`, RATE_LIMIT_REDIS_TIMEOUT_MS: '5000' });
  const instances = [0, 1].map(() => {
    const redis = new RateLimitRedis(config);
    return { redis, limiter: new TenantRateLimiter(config, redis) };
  });

  beforeAll(async () => {
    for (const { redis, limiter } of instances) {
      await redis.onApplicationBootstrap();
      limiter.onApplicationBootstrap();
    }
  });
  afterAll(async () => {
    for (const { redis, limiter } of instances) {
      await limiter.beforeApplicationShutdown();
      redis.onApplicationShutdown();
    }
  });

  it('admits the quota (plus what the schedule let in meanwhile) and no more, with far fewer round trips, and counts each request once', async () => {
    const tenant = randomUUID();
    const minute = minuteOf(Date.now());
    const calls = instances.map(({ redis }) => {
      const count = { evalsha: 0 };
      // Counted on the way through: every command still goes to Redis.
      const send = redis.client.sendCommand.bind(redis.client) as (...args: Parameters<typeof redis.client.sendCommand>) => unknown;
      jest.spyOn(redis.client, 'sendCommand').mockImplementation((...args) => {
        if (args[0].name === 'evalsha') count.evalsha++;
        return send(...args);
      });
      return count;
    });
    const started = Date.now();
    let admitted = 0;
    let refused = 0;
    const refusedBy = [0, 0];
    // 8 callers per instance until both have refused 20 in a row: the quota is spent everywhere.
    await Promise.all(
      [0, 1].flatMap((index) =>
        Array.from({ length: 8 }, async () => {
          while (refusedBy[index] < 20) {
            const decision = await instances[index].limiter.take(tenant, 'free', 'read');
            if (decision.allowed) {
              admitted++;
              refusedBy[index] = 0;
            } else {
              refused++;
              refusedBy[index]++;
            }
          }
        }),
      ),
    );
    const elapsed = Date.now() - started;
    const dueMeanwhile = Math.ceil(elapsed / (60_000 / QUOTA)) + 1;
    expect(admitted).toBeGreaterThanOrEqual(QUOTA);
    expect(admitted).toBeLessThanOrEqual(QUOTA + dueMeanwhile);
    // Most requests were admitted from leases: far fewer script calls than decisions.
    expect(calls[0].evalsha + calls[1].evalsha).toBeLessThan((admitted + refused) / 4);

    // At shutdown every count held in process goes to Redis: admitted and refused, each once.
    for (const { limiter } of instances) await limiter.beforeApplicationShutdown();
    const counts = await instances[0].redis.client.hgetall(countsKey(tenant, minute));
    const next = Date.now() < (minute + 1) * 60_000 ? {} : await instances[0].redis.client.hgetall(countsKey(tenant, minute + 1));
    const total = (field: string) => Number(counts[field] ?? 0) + Number((next as Record<string, string>)[field] ?? 0);
    expect(total('read')).toBe(admitted);
    expect(total('read:refused')).toBe(refused);
    await instances[0].redis.client.del(limiterKey(tenant, 'read'), countsKey(tenant, minute), countsKey(tenant, minute + 1));
  });
});
