import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { TenantServiceClient } from '@bulkhead/service-client';
import { createFrameContextManager } from '@bulkhead/tracing';
import { Controller, Get, Inject, Module, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { context, propagation, trace, TraceFlags } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { ApiModule } from '../apps/api/src/api.module';
import { createHttpApp } from '../apps/api/src/http.setup';
import { ApiProcess, startApiProcess, waitUntilAnswering } from './support/api-process';
import { freePort } from './support/fault-services';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

// Starting a second API process (with the tracing SDK) takes a while on a busy machine.
jest.setTimeout(240_000);

let calleeUrl = '';

/** A route of the calling service that reads the tenant's customers from the other service. */
@Controller('v1/relay')
class RelayController {
  constructor(@Inject(TenantServiceClient) private readonly client: TenantServiceClient) {}

  @Get()
  async relay(@Query('credentials') credentials: 'caller' | 'minted', @Query('tenant') smuggled?: string): Promise<{ status: number; body: unknown }> {
    const response = await this.client.request(`${calleeUrl}/v1/customers`, { credentials, headers: smuggled ? { 'x-tenant-id': smuggled } : {} });
    return { status: response.status, body: await response.json() };
  }
}

@Module({ controllers: [RelayController] })
class RelayModule {}

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

describe('calls between services carry the tenant and the trace', () => {
  let callee: ApiProcess;
  let setup: TestApi;
  let caller: TestApi;
  let collector: Server;
  const spans: ExportedSpan[] = [];
  let a: TenantRecord;
  let b: TenantRecord;

  beforeAll(async () => {
    // A stand-in OTLP collector: the callee exports its spans here (OTLP/HTTP JSON).
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        try {
          for (const resource of JSON.parse(body).resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
        } catch {
          // protobuf or garbled: ignored
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const port = await freePort();
    calleeUrl = `http://127.0.0.1:${port}`;
    callee = startApiProcess({
      PORT: String(port),
      HOST: '127.0.0.1',
      TRACING_ENABLED: 'true',
      TRACING_SAMPLE_RATIO: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      LOG_LEVEL: 'info',
    });
    await waitUntilAnswering(callee, `${calleeUrl}/health/live`, 600);
    setup = await startTestApi();
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule, RelayModule] }).compile();
    const app = await createHttpApp(moduleRef, loadConfig(), { docs: false });
    caller = { ...setup, app, server: app.getHttpServer(), close: () => app.close() };
    a = await createTenant(setup, { isolation: 'schema' });
    b = await createTenant(setup, { isolation: 'pool' });
    for (const tenant of [a, b]) {
      expect((await call(setup.server, 'post', '/v1/customers', tokenFor(setup, tenant), { name: `of ${tenant.slug}`, email: `${randomUUID()}@example.com` })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await caller?.close();
    await setup?.close();
    callee?.child.kill('SIGTERM');
    await callee?.exited;
    await new Promise((resolve) => collector?.close(resolve));
  });

  it.each(['caller', 'minted'] as const)("reaches the other process as the same tenant, seeing only that tenant's rows (%s token)", async (credentials) => {
    for (const [tenant, other] of [
      [a, b],
      [b, a],
    ]) {
      const response = await call(caller.server, 'get', `/v1/relay?credentials=${credentials}`, tokenFor(caller, tenant));
      expect(response.status).toBe(200);
      expect(response.body.status).toBe(200);
      const names = (response.body.body.items as Array<{ name: string }>).map((customer) => customer.name);
      expect(names).toEqual([`of ${tenant.slug}`]);
      expect(names).not.toContain(`of ${other.slug}`);
    }
  });

  it("names the context's tenant whatever the calling code asks, and the callee's own guards refuse a mismatch", async () => {
    // The relay tries to name b: the client overrides it with the context's tenant, a.
    const relayed = await call(caller.server, 'get', `/v1/relay?credentials=minted&tenant=${b.id}`, tokenFor(caller, a));
    expect(relayed.body.status).toBe(200);
    expect(relayed.body.body.items.map((customer: { name: string }) => customer.name)).toEqual([`of ${a.slug}`]);
    // A token of a with a header naming b, straight at the callee: its tenant guard answers 403.
    const direct = await fetch(`${calleeUrl}/v1/customers`, { headers: { authorization: `Bearer ${tokenFor(setup, a)}`, 'x-tenant-id': b.id } });
    expect(direct.status).toBe(403);
    expect(((await direct.json()) as { code: string }).code).toBe('tenant_mismatch');
  });

  it('sends W3C trace context; the callee continues the trace (its sampling follows the caller) and puts the tenant on its spans', async () => {
    context.setGlobalContextManager(createFrameContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const traceId = randomBytes(16).toString('hex');
    const parent = trace.setSpanContext(context.active(), { traceId, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED, isRemote: true });
    const { runWithTenant, tenantContextOf } = await import('@bulkhead/tenancy');
    const response = await context.with(parent, () =>
      runWithTenant(tenantContextOf(a, 'user-1'), () => caller.app.get(TenantServiceClient).request(`${calleeUrl}/v1/customers`, { credentials: 'minted' })),
    );
    expect(response.status).toBe(200);
    const deadline = Date.now() + 15_000;
    const tenantOf = (span: ExportedSpan) => span.attributes.find((attribute) => attribute.key === 'bulkhead.tenant_id')?.value.stringValue;
    while (Date.now() < deadline && !spans.some((span) => span.traceId === traceId && span.name.startsWith('pg'))) await new Promise((resolve) => setTimeout(resolve, 100));
    const mine = spans.filter((span) => span.traceId === traceId);
    // Sampled although the callee samples 0% of new traces: the caller's decision carries over.
    expect(mine.find((span) => span.name === 'GET /v1/customers')).toBeDefined();
    expect(tenantOf(mine.find((span) => span.name === 'GET /v1/customers') as ExportedSpan)).toBe(a.id);
    const queries = mine.filter((span) => span.name.startsWith('pg'));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.some((span) => tenantOf(span) === a.id)).toBe(true);
    // The callee's log lines carry the trace id.
    expect(callee.output()).toContain(traceId);
  });
  it("traces a request its caller sampled from Fastify's hooks: a server span named after the route, with status and tenant, the parent of the queries run after the body was read; the access line names the trace", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const email = `${randomUUID()}@example.com`;
    const response = await fetch(`${calleeUrl}/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenFor(setup, b)}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
      body: JSON.stringify({ name: 'traced', email }),
    });
    expect(response.status).toBe(201);
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !spans.some((span) => span.traceId === traceId && span.name === 'POST /v1/customers')) await new Promise((resolve) => setTimeout(resolve, 100));
    const server = spans.find((span) => span.traceId === traceId && span.name === 'POST /v1/customers') as ExportedSpan;
    expect(server).toBeDefined();
    expect(server.parentSpanId).toBe(callerSpanId);
    const attribute = (key: string) => server.attributes.find((entry) => entry.key === key)?.value;
    expect(attribute('http.route')?.stringValue).toBe('/v1/customers');
    expect(Number(attribute('http.response.status_code')?.intValue)).toBe(201);
    expect(attribute('bulkhead.tenant_id')?.stringValue).toBe(b.id);
    // The body was parsed before the route ran: its queries are still the server span's children.
    const queries = spans.filter((span) => span.traceId === traceId && span.name.startsWith('pg'));
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.every((span) => span.parentSpanId === server.spanId)).toBe(true);
    // A query span shows the statement's shape, never the values it carried (the customer's
    // e-mail, the tenant id, the audit entry), which travel inlined as literals.
    const texts = queries.map((span) => span.attributes.find((entry) => entry.key === 'db.query.text')?.value.stringValue ?? '');
    expect(texts.some((text) => text.includes('INSERT'))).toBe(true);
    expect(texts.filter((text) => text.includes(email) || text.includes(b.id) || text.includes('"action"'))).toEqual([]);
    // Nor does a Redis span (the rate limiter's script names the tenant in its keys).
    const commands = spans.filter((span) => span.traceId === traceId && span.attributes.some((entry) => entry.key === 'db.system.name' && entry.value.stringValue === 'redis'));
    expect(commands.length).toBeGreaterThan(0);
    const commandTexts = commands.map((span) => span.attributes.find((entry) => entry.key === 'db.query.text')?.value.stringValue ?? '');
    expect(commandTexts.filter((text) => text.includes(b.id))).toEqual([]);
    const accessLine = callee
      .output()
      .split('\n')
      .find((line) => line.includes(traceId) && line.includes('"statusCode":201'));
    expect(accessLine).toBeDefined();
  });

  it('starts no trace for a request without trace context when none is chosen, and none for a caller that did not sample, whose trace id its lines still carry', async () => {
    // Whatever the earlier cases left in the exporter's batch arrives first.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const before = spans.length;
    const unsampledTrace = randomBytes(16).toString('hex');
    const token = tokenFor(setup, b);
    expect((await fetch(`${calleeUrl}/v1/customers`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${calleeUrl}/v1/customers`, { headers: { authorization: `Bearer ${token}`, traceparent: `00-${unsampledTrace}-${randomBytes(8).toString('hex')}-00` } })).status).toBe(200);
    // Longer than the exporter's batch delay (OTEL_BSP_SCHEDULE_DELAY=200).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(spans.slice(before).filter((span) => span.name === 'GET /v1/customers' || span.name.startsWith('pg'))).toEqual([]);
    expect(callee.output()).toContain(unsampledTrace);
  });
});
