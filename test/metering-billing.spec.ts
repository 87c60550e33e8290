import { IsolationModel } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { randomUUID } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { runCli } from './support/cli';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

interface Received {
  path: string;
  authorization: string | undefined;
  body: { event_name: string; identifier: string; timestamp: string; payload: Record<string, string> };
}

/** A stand-in for Stripe's API that records every meter event it is sent. */
async function startStripeStandIn(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const read = (request: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => resolve(text));
    });
  const server = createServer(async (request, response) => {
    const body = JSON.parse(await read(request)) as Received['body'];
    received.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ object: 'v2.billing.meter_event', created: new Date().toISOString(), livemode: false, ...body }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** As the owner role, in the tenant's own storage: what a bug or a lost write would leave behind. */
async function tamper(api: TestApi, tenant: TenantRecord, sql: string): Promise<number> {
  const url = tenant.databaseName ? withDatabase(api.config.DATABASE_OWNER_URL, tenant.databaseName) : api.config.DATABASE_OWNER_URL;
  return withPg(url, 'metering-test', async (client) => {
    await client.query('BEGIN');
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
    if (tenant.schemaName) await client.query(`SET LOCAL search_path TO ${quoteIdent(tenant.schemaName)}`);
    const result = await client.query(sql, [tenant.id]);
    await client.query('COMMIT');
    return result.rowCount ?? 0;
  });
}

const period = () => {
  const now = new Date();
  return `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
};

describe('billing export, sending and reconciliation', () => {
  let api: TestApi;
  let stripe: Awaited<ReturnType<typeof startStripeStandIn>>;
  const tenants = new Map<IsolationModel, TenantRecord>();
  const expected = new Map<string, number>();

  beforeAll(async () => {
    stripe = await startStripeStandIn();
    api = await startTestApi({ BILLING_STRIPE_API_KEY: 'sk_test_bulkhead', BILLING_STRIPE_BASE_URL: stripe.url });
    for (const model of ['pool', 'schema', 'silo'] as const) {
      const tenant = await createTenant(api, { isolation: model, externalRef: `cus_${randomUUID().slice(0, 8)}` });
      tenants.set(model, tenant);
      const token = tokenFor(api, tenant);
      const time = new Date(Date.now() - 60_000).toISOString();
      const events = Array.from({ length: 30 }, (_, i) => ({
        specversion: '1.0',
        id: `b-${i}`,
        source: 'test',
        type: i % 2 ? 'api.calls' : 'compute.seconds',
        time,
        ...(i % 2 ? {} : { data: { seconds: 1.5 } }),
      }));
      expect((await call(api.server, 'post', '/v1/usage/events', token, { events })).body.accepted).toBe(30);
      const customer = await call(api.server, 'post', '/v1/customers', token, { name: 'C', email: `${randomUUID()}@example.com` });
      for (let i = 0; i < 2; i += 1) await call(api.server, 'post', '/v1/orders', token, { customerId: customer.body.id, totalCents: 1, currency: 'EUR' });
      expected.set(tenant.id, 32);
    }
  });
  afterAll(async () => {
    await api.close();
    await new Promise((resolve) => stripe.server.close(resolve));
  });

  /** A fleet operation walked page by page (as an operator's script would), answers joined. */
  const fleet = async (path: string, body: Record<string, unknown>) => {
    // Loosely typed: the answers are checked field by field below.
    const tenantsSeen: Array<{ tenantId: string; [field: string]: any }> = [];
    let content = '';
    let after: string | null = null;
    do {
      const page = await call(api.server, 'post', path, operatorToken(api), { ...body, limit: 100, ...(after ? { after } : {}) });
      expect(page.status).toBe(200);
      tenantsSeen.push(...page.body.tenants);
      content += page.body.content ?? '';
      after = page.body.next;
    } while (after);
    return { body: { tenants: tenantsSeen, content } };
  };
  const ours = <T extends { tenantId: string }>(items: T[]) => items.filter((item) => expected.has(item.tenantId));

  it('exports Stripe v2 meter events as JSON lines and CSV, our event id as identifier, the same on every run', async () => {
    const first = await fleet('/v1/admin/billing/exports', { period: period() });
        for (const summary of ours(first.body.tenants)) expect(summary).toMatchObject({ status: 'exported', events: 32 });
    const lines = (first.body.content as string).trim().split('\n').map((line) => JSON.parse(line));
    for (const tenant of tenants.values()) {
      const mine = lines.filter((line) => line.payload.stripe_customer_id === tenant.externalRef);
      expect(mine).toHaveLength(32);
      expect(new Set(mine.map((line) => line.identifier)).size).toBe(32);
      expect(mine.find((line) => line.event_name === 'compute.seconds')).toMatchObject({ payload: { value: '1.5' } });
      expect(Object.keys(mine[0]).sort()).toEqual(['event_name', 'identifier', 'payload', 'timestamp']);
    }
    // Other suites write to the same database meanwhile: compare our tenants' lines only.
    const customers = [...tenants.values()].map((t) => t.externalRef as string);
    const oursOf = (content: string) => content.split('\n').filter((line) => customers.some((c) => line.includes(c)));
    const again = await fleet('/v1/admin/billing/exports', { period: period() });
    expect(oursOf(again.body.content)).toEqual(oursOf(first.body.content));
    expect(oursOf(first.body.content)).toHaveLength(96);
    const csv = await fleet('/v1/admin/billing/exports', { period: period(), format: 'csv' });
    const rows = (csv.body.content as string).trim().split('\n');
    expect(rows[0]).toBe('tenant_id,event_name,identifier,timestamp,value,stripe_customer_id');
    expect(oursOf(csv.body.content)).toHaveLength(96);
  });

  it('sends every event to Stripe once, and a re-run sends nothing', async () => {
    // Per tenant: a fleet-wide send here would also send other suites' tenants' events.
    const sendAll = async () => {
      const sent: Array<{ status: string; sent: number }> = [];
      for (const tenant of tenants.values()) {
        const answer = await call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/sends`, operatorToken(api), { period: period() });
        expect(answer.status).toBe(200);
        sent.push(...answer.body.tenants);
      }
      return sent;
    };
    // Two sends of each tenant at once: one sends, the other finds it running (or, started after
    // it ended, nothing left); never both reading the same unsent events and posting them twice.
    const twice = await Promise.all([...tenants.values()].map(async (tenant) => {
      const answers = await Promise.all([0, 1].map(() => call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/sends`, operatorToken(api), { period: period() })));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200]);
      return answers.flatMap((answer) => answer.body.tenants as Array<{ status: string; sent: number; error?: string }>);
    }));
    for (const pair of twice) {
      expect(pair.map((result) => result.sent).sort((x, y) => x - y)).toEqual([0, 32]);
      const other = pair.find((result) => result.sent === 0);
      expect(other?.status === 'sent' || /another send of .* is running/.test(other?.error ?? '')).toBe(true);
    }
    const mine = stripe.received.filter((r) => [...tenants.values()].some((t) => t.externalRef === r.body.payload.stripe_customer_id));
    expect(mine).toHaveLength(96);
    expect(new Set(mine.map((r) => r.body.identifier)).size).toBe(96);
    expect(mine.every((r) => r.path === '/v2/billing/meter_events' && r.authorization === 'Bearer sk_test_bulkhead')).toBe(true);
    const before = stripe.received.length;
    for (const result of await sendAll()) expect(result).toMatchObject({ status: 'sent', sent: 0 });
    expect(stripe.received.length).toBe(before);
  });

  it.each(['pool', 'schema', 'silo'] as const)('blocks the export of a tenant whose meter drifts (%s) until an operator acknowledges it', async (model) => {
    const tenant = tenants.get(model) as TenantRecord;
    // An order whose usage event was lost: the source of truth now has more than the meter.
    expect(await tamper(api, tenant, "DELETE FROM usage_events WHERE tenant_id = $1 AND id IN (SELECT id FROM usage_events WHERE tenant_id = $1 AND meter = 'orders.created' LIMIT 1)")).toBe(1);
    const reconciled = await fleet('/v1/admin/billing/reconciliations', { period: period() });
    const mine = reconciled.body.tenants.find((t: { tenantId: string }) => t.tenantId === tenant.id) as unknown as { status: string; meters: Array<{ meter: string }> };
    expect(mine.status).toBe('drift');
    expect(mine.meters.find((m: { meter: string }) => m.meter === 'orders.created')).toMatchObject({ sourceTotal: '2', logTotal: '1', rollupTotal: '2', status: 'drift' });
    const blocked = await fleet('/v1/admin/billing/exports', { period: period() });
    expect(blocked.body.tenants.find((t: { tenantId: string }) => t.tenantId === tenant.id)).toMatchObject({ status: 'blocked', events: 0 });
    expect(blocked.body.content).not.toContain(tenant.externalRef);
    const send = await call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/sends`, operatorToken(api), { period: period() });
    expect(send.body.tenants).toEqual([expect.objectContaining({ tenantId: tenant.id, status: 'blocked' })]);
    const single = await call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/exports`, operatorToken(api), { period: period() });
    expect(single.body).toMatchObject({ tenants: [{ tenantId: tenant.id, status: 'blocked', events: 0 }], content: '' });

    const ack = await call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/acknowledge`, operatorToken(api), { period: period(), note: 'lost in a test' });
    expect(ack.body).toMatchObject({ tenantId: tenant.id, acknowledged: 1 });
    expect((await call(api.server, 'post', `/v1/admin/billing/tenants/${tenant.id}/acknowledge`, operatorToken(api), { period: period() })).body.acknowledged).toBe(0);
    const unblocked = await fleet('/v1/admin/billing/exports', { period: period() });
    expect(unblocked.body.tenants.find((t: { tenantId: string }) => t.tenantId === tenant.id)).toMatchObject({ status: 'exported', events: 31 });
  });

  it('answers bad input and unknown tenants with problems', async () => {
    for (const period of ['2026-13', '0000-01', '0099-12', '1999-12', '9999-12']) {
      expectProblem(await call(api.server, 'post', '/v1/admin/billing/exports', operatorToken(api), { period }), 400);
      expectProblem(await call(api.server, 'post', '/v1/admin/billing/reconciliations', operatorToken(api), { period }), 400);
      expectProblem(await call(api.server, 'post', `/v1/admin/billing/tenants/${(tenants.get('pool') as TenantRecord).id}/acknowledge`, operatorToken(api), { period }), 400);
    }
    expectProblem(await call(api.server, 'post', `/v1/admin/billing/tenants/${randomUUID()}/acknowledge`, operatorToken(api), { period: period() }), 404, 'tenant_not_found');
    const tenant = tenants.get('pool') as TenantRecord;
    expectProblem(await call(api.server, 'post', '/v1/admin/billing/exports', tokenFor(api, tenant), { period: period() }), 403);
  });

  it('exports from the CLI: bulkhead billing export --period', async () => {
    const tenant = tenants.get('schema') as TenantRecord;
    const jsonl = runCli(['billing', 'export', '--period', period(), '--tenant', tenant.slug]);
    expect(jsonl.status).toBe(0);
    const lines = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThanOrEqual(31);
    expect(lines.every((line) => line.payload.stripe_customer_id === tenant.externalRef)).toBe(true);
    const csv = runCli(['billing', 'export', '--period', period(), '--tenant', tenant.slug, '--format', 'csv']);
    expect(csv.stdout.trim().split('\n')).toHaveLength(lines.length + 1);
    expect(runCli(['billing', 'export', '--period', 'november']).status).toBe(2);
  }, 120_000);
});
