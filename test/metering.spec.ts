import { IsolationModel } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { randomUUID } from 'node:crypto';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function event(type: string, data: Record<string, unknown> | undefined, extra: Record<string, unknown> = {}) {
  return { specversion: '1.0', id: `evt-${randomUUID()}`, source: 'test', type, ...(data ? { data } : {}), ...extra };
}

/** Ingest, rollups and the usage report, against the real stack, in every isolation model. */
describe.each<IsolationModel>(['pool', 'schema', 'silo'])('metering (%s)', (model) => {
  let api: TestApi;
  let tenant: TenantRecord;
  let other: TenantRecord;
  let token: string;
  let otherToken: string;

  const ingest = (events: unknown[], as = token) => call(api.server, 'post', '/v1/usage/events', as, { events });
  const usage = async (meter: string, from: Date, to: Date, granularity = 'day', as = token) => {
    const response = await call(api.server, 'get', `/v1/usage?meter=${meter}&from=${from.toISOString()}&to=${to.toISOString()}&granularity=${granularity}`, as);
    expect(response.status).toBe(200);
    return response.body as { total: string | null; buckets: Array<{ start: string; value: string }> };
  };

  beforeAll(async () => {
    api = await startTestApi();
    tenant = await createTenant(api, { isolation: model });
    other = await createTenant(api, { isolation: model });
    token = tokenFor(api, tenant);
    otherToken = tokenFor(api, other);
  });
  afterAll(() => api.close());

  it('counts every event once across three replays, per hour, day and month, exactly', async () => {
    const now = Date.now();
    const late = new Date(now - 30 * DAY).toISOString();
    const events = [
      event('compute.seconds', { seconds: 1.25 }),
      event('compute.seconds', { seconds: '2.000000000001' }),
      event('compute.seconds', { seconds: 3 }, { time: late }),
      event('api.calls', undefined),
      event('storage.bytes', { bytes: 10 }),
      event('storage.bytes', { bytes: 7 }),
      event('active.users', { user_id: 'u1' }),
      event('active.users', { user_id: 'u1' }),
      event('active.users', { user_id: 'u2' }),
    ];
    const first = await ingest(events);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ accepted: 9, duplicates: 0, refused: 0 });
    for (let replay = 0; replay < 3; replay += 1) {
      const again = await ingest(events);
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 9, refused: 0 });
    }
    const from = new Date(now - 32 * DAY);
    const to = new Date(now + DAY);
    expect((await usage('compute.seconds', from, to)).total).toBe('6.250000000001');
    expect((await usage('compute.seconds', from, to, 'hour')).total).toBe('6.250000000001');
    const monthly = await usage('compute.seconds', new Date(Date.UTC(2000, 0, 1)), new Date(Date.UTC(2050, 0, 1)), 'month');
    expect(monthly.total).toBe('6.250000000001');
    // The late event sits in its own day.
    const lateDay = await usage('compute.seconds', new Date(Date.parse(late) - DAY), new Date(Date.parse(late) + 1));
    expect(lateDay.buckets.map((b) => b.value)).toEqual(['3']);
    expect((await usage('api.calls', from, to)).total).toBe('1');
    expect((await usage('storage.bytes', from, to)).total).toBe('10');
    const users = await usage('active.users', from, to);
    expect(users.buckets.map((b) => b.value)).toEqual(['2']);
  });

  it('rolls up a batch without unique keys (the short path of usage_write) exactly as the whole statement does', async () => {
    // Every event carries its time, so an hour ending between the two tenants' writes changes nothing.
    const now = Date.now();
    const at = new Date(now - 30 * 60_000).toISOString();
    const late = new Date(now - 30 * DAY).toISOString();
    const common = (tag: string) => [
      event('api.calls', undefined, { id: `${tag}-a`, time: at }),
      event('api.calls', undefined, { id: `${tag}-b`, time: at }),
      event('compute.seconds', { seconds: '1.5' }, { id: `${tag}-c`, time: at }),
      event('compute.seconds', { seconds: 0.25 }, { id: `${tag}-i`, time: at }),
      event('compute.seconds', { seconds: 2 }, { id: `${tag}-d`, time: late }),
      event('storage.bytes', { bytes: 40 }, { id: `${tag}-e`, time: at }),
      event('storage.bytes', { bytes: 9 }, { id: `${tag}-f`, time: at }),
      event('seats', { seats: 3 }, { id: `${tag}-g`, time: new Date(now - 2 * HOUR).toISOString() }),
      event('seats', { seats: 8 }, { id: `${tag}-h`, time: new Date(now - 3 * HOUR).toISOString() }),
    ];
    const short = tokenFor(api, await createTenant(api, { isolation: model }));
    const whole = tokenFor(api, await createTenant(api, { isolation: model }));
    // One event with a unique key sends the other tenant's batch down the whole statement.
    for (let replay = 0; replay < 2; replay += 1) {
      const counts = replay === 0 ? { accepted: 9, duplicates: 0 } : { accepted: 0, duplicates: 9 };
      expect((await ingest(common('s'), short)).body).toMatchObject({ ...counts, refused: 0 });
      const withUnique = [...common('w'), event('active.users', { user_id: 'u1' }, { id: 'w-u', time: at })];
      expect((await ingest(withUnique, whole)).body).toMatchObject({ accepted: counts.accepted && 10, duplicates: counts.duplicates && 10, refused: 0 });
    }
    const from = new Date(now - 45 * DAY);
    const to = new Date(now + DAY);
    for (const meter of ['api.calls', 'compute.seconds', 'storage.bytes', 'seats']) {
      for (const granularity of ['hour', 'day', 'month']) {
        // An hourly report spans at most a few days: the late event is left to the others.
        const start = granularity === 'hour' ? new Date(now - 2 * DAY) : from;
        const mine = await usage(meter, start, to, granularity, short);
        expect(mine.buckets.length).toBeGreaterThan(0);
        expect(mine).toEqual(await usage(meter, start, to, granularity, whole));
      }
    }
    expect((await usage('compute.seconds', from, to, 'day', short)).total).toBe('3.75');
  });

  it('refuses events one by one, with a reason, and keeps the rest', async () => {
    const now = Date.now();
    const good = event('api.calls', undefined);
    const response = await ingest([
      good,
      event('api.calls', undefined, { time: new Date(now - 36 * DAY).toISOString() }),
      event('api.calls', undefined, { time: new Date(now + 10 * 60_000).toISOString() }),
      event('no.such.meter', undefined),
      event('orders.created', undefined),
      event('compute.seconds', { seconds: 'lots' }),
      // Negative usage would cancel what the tenant is billed for.
      event('compute.seconds', { seconds: -1000000 }),
      event('compute.seconds', { seconds: '-5' }),
      event('compute.seconds', { seconds: 1, tenant_id: other.id }),
      good,
    ]);
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual([
      'accepted',
      'too_old',
      'in_future',
      'unknown_meter',
      'meter_not_ingestable',
      'value_invalid',
      'value_invalid',
      'value_invalid',
      'tenant_in_body',
      'duplicate',
    ]);
  });

  it('reads a JSON number JavaScript prints with an exponent (1e-7) as the decimal it is, within 12 fractional digits', async () => {
    const small = await createTenant(api, { isolation: model });
    const as = tokenFor(api, small);
    const response = await ingest([event('compute.seconds', { seconds: 1e-7 }), event('compute.seconds', { seconds: 5e-12 }), event('compute.seconds', { seconds: 1e-13 })], as);
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual(['accepted', 'accepted', 'value_invalid']);
    const now = Date.now();
    expect((await usage('compute.seconds', new Date(now - DAY), new Date(now + DAY), 'hour', as)).total).toBe('0.000000100005');
  });

  it('takes a leap second as the start of the next second, and refuses a day the month does not have', async () => {
    // Three days ago at 23:59:60 UTC: RFC 3339 allows it, Date.parse does not (it was a 500).
    const dayStart = new Date(Math.floor(Date.now() / DAY) * DAY - 2 * DAY);
    const leap = `${new Date(dayStart.getTime() - DAY).toISOString().slice(0, 10)}T23:59:60Z`;
    const response = await ingest([event('compute.seconds', { seconds: 7.5 }, { time: leap }), event('compute.seconds', { seconds: 0.25 }, { time: leap.replace('Z', '.5+00:00') })], otherToken);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2, refused: 0 });
    // Both in the hour that starts the next day, as PostgreSQL reads 23:59:60.
    expect((await usage('compute.seconds', dayStart, new Date(dayStart.getTime() + HOUR), 'hour', otherToken)).total).toBe('7.75');
    const marker = event('api.calls', undefined);
    for (const time of ['2026-02-30T10:00:00Z', '2025-02-29T10:00:00Z', '2026-04-31T10:00:00Z', '2026-11-27T24:00:00Z']) {
      expectProblem(await ingest([marker, event('api.calls', undefined, { time })]), 400);
    }
    expect((await ingest([marker])).body.accepted).toBe(1);
    // The report reads its range the same way: no silent 2 March for 30 February.
    const report = await call(api.server, 'get', '/v1/usage?meter=api.calls&from=2026-02-30T00:00:00Z&to=2026-03-05T00:00:00Z&granularity=day', token);
    expectProblem(report, 400);
    const leapRange = await call(api.server, 'get', `/v1/usage?meter=compute.seconds&from=${leap}&to=${new Date(dayStart.getTime() + HOUR).toISOString()}&granularity=hour`, otherToken);
    expect(leapRange.body.total).toBe('7.75');
  });

  it('refuses a tenant in the body, malformed events and oversized batches as a whole (400), writing nothing', async () => {
    const marker = event('api.calls', undefined);
    expectProblem(await call(api.server, 'post', '/v1/usage/events', token, { events: [marker], tenantId: other.id }), 400);
    expectProblem(await ingest([marker, { ...event('api.calls', undefined), tenantid: other.id }]), 400);
    expectProblem(await ingest([marker, { ...event('api.calls', undefined), specversion: '0.3' }]), 400);
    expectProblem(await ingest([]), 400);
    expectProblem(await ingest(Array.from({ length: 1001 }, () => event('api.calls', undefined))), 400);
    // The marker was never written: it is accepted now.
    expect((await ingest([marker])).body.accepted).toBe(1);
  });

  it('keeps usage per tenant: the same event id is two events, and reports never cross', async () => {
    const shared = event('api.calls', undefined);
    expect((await ingest([shared])).body.accepted).toBe(1);
    expect((await ingest([shared], otherToken)).body.accepted).toBe(1);
    const from = new Date(Date.now() - DAY);
    const to = new Date(Date.now() + DAY);
    const mine = Number((await usage('api.calls', from, to)).total);
    const theirs = Number((await usage('api.calls', from, to, 'day', otherToken)).total);
    expect(theirs).toBe(1);
    expect(mine).toBeGreaterThan(1);
  });

  it("merges the rollup shards of one tenant's concurrent writers exactly, in every aggregation", async () => {
    // Twelve batches at once: they land on several pooled connections, hence several shards.
    const base = Date.now() - 60_000;
    const batches = Array.from({ length: 12 }, (_, i) => [
      event('api.calls', undefined),
      event('compute.seconds', { seconds: i }),
      event('storage.bytes', { bytes: i }),
      event('active.users', { user_id: `shard-user-${i % 5}` }),
      event('seats', { seats: i }, { time: new Date(base + i * 1000).toISOString() }),
    ]);
    const own = tokenFor(api, await createTenant(api, { isolation: model }));
    const answers = await Promise.all(batches.map((events) => ingest(events, own)));
    expect(answers.map((a) => a.body.accepted)).toEqual(Array(12).fill(5));
    const from = new Date(base - DAY);
    const to = new Date(base + DAY);
    const read = (meter: string) => usage(meter, from, to, 'day', own);
    expect((await read('api.calls')).total).toBe('12');
    expect((await read('compute.seconds')).total).toBe('66');
    expect((await read('storage.bytes')).total).toBe('11');
    const users = await read('active.users');
    expect(users.buckets.reduce((sum, b) => sum + Number(b.value), 0)).toBe(5);
    const seats = await read('seats');
    // The latest event by time wins, whichever shard holds it.
    expect(seats.buckets[seats.buckets.length - 1].value).toBe('11');
  });

  it('records orders.created with the order, once, and reports it', async () => {
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    expect(customer.status).toBe(201);
    const from = new Date(Date.now() - DAY);
    const to = new Date(Date.now() + DAY);
    const before = Number((await usage('orders.created', from, to)).total);
    for (let i = 0; i < 3; i += 1) {
      expect((await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 100, currency: 'EUR' })).status).toBe(201);
    }
    // A refused order (unknown customer) records nothing.
    expect((await call(api.server, 'post', '/v1/orders', token, { customerId: randomUUID(), totalCents: 100, currency: 'EUR' })).status).toBe(422);
    expect(Number((await usage('orders.created', from, to)).total)).toBe(before + 3);
  });

  it("refuses an ingested event that takes a recorded meter's event id: it could only pre-empt the platform's own count", async () => {
    const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
    const order = await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 100, currency: 'EUR' });
    expect(order.status).toBe(201);
    const from = new Date(Date.now() - DAY);
    const to = new Date(Date.now() + DAY);
    const seconds = async () => (await usage('compute.seconds', from, to)).total;
    const before = await seconds();
    // The id of the order's own usage event, and of an order yet to come: both the platform's.
    const response = await ingest([
      event('compute.seconds', { seconds: 5 }, { id: `orders.created:${order.body.id}` }),
      event('compute.seconds', { seconds: 5 }, { id: `orders.created:${randomUUID()}` }),
      event('compute.seconds', { seconds: 5 }, { id: `orders.created.mine:${randomUUID()}` }),
    ]);
    expect(response.status).toBe(200);
    expect(response.body.results.map((r: { status: string; reason?: string }) => r.reason ?? r.status)).toEqual(['id_reserved', 'id_reserved', 'accepted']);
    expect(Number(await seconds())).toBe(Number(before) + 5);
  });

  it('answers bad queries with 4xx problems', async () => {
    expectProblem(await call(api.server, 'get', '/v1/usage?meter=no.such&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z', token), 404, 'meter_not_found');
    expectProblem(await call(api.server, 'get', '/v1/usage?meter=api.calls&from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', token), 400, 'usage_range_invalid');
    expectProblem(await call(api.server, 'get', '/v1/usage?meter=api.calls&from=2000-01-02T00:00:00Z&to=2026-01-01T00:00:00Z&granularity=hour', token), 400, 'usage_range_invalid');
    expectProblem(await call(api.server, 'get', '/v1/usage?meter=api.calls&from=yesterday&to=2026-01-01T00:00:00Z', token), 400);
  });

  it('gives operators every tenant of every model, each from its own placement', async () => {
    const from = new Date(Date.now() - DAY);
    const to = new Date(Date.now() + DAY);
    const items: Array<{ tenantId: string; total: string }> = [];
    let after: string | null = null;
    do {
      const page = await call(api.server, 'get', `/v1/admin/usage?meter=api.calls&from=${from.toISOString()}&to=${to.toISOString()}&limit=100${after ? `&after=${after}` : ''}`, operatorToken(api));
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      after = page.body.next;
    } while (after);
    const mine = await usage('api.calls', from, to);
    expect(items.find((item) => item.tenantId === tenant.id)?.total).toBe(mine.total);
    expect(items.find((item) => item.tenantId === other.id)?.total).toBe('1');
    expectProblem(await call(api.server, 'get', `/v1/admin/usage?meter=api.calls&from=${from.toISOString()}&to=${to.toISOString()}`, token), 403);
  });
});
