import { clearPrivateJobQueue } from './support/private-job-queue';
import { BulkheadConfig } from '@bulkhead/config';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import { Actor, ApiClient, ApiOperation, ApiResponse, GeneratedRequest, RequestGenerator, RequestOptions, Schema } from '@bulkhead/testing';
import { TenantRecord } from '@bulkhead/control-plane';
import { INestApplicationContext } from '@nestjs/common';
import { OpenAPIObject } from '@nestjs/swagger';
import { Test } from '@nestjs/testing';
import { Client } from 'pg';
import request from 'supertest';
import { ApiModule } from '../apps/api/src/api.module';
import { createHttpApp } from '../apps/api/src/http.setup';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';
import { startTestWorker } from './support/test-worker';

// Signup is public (no tenant, no token): its routes are exercised by test/lifecycle-onboarding.spec.ts.
const tenantRoute = (operation: ApiOperation) => operation.path.startsWith('/v1/') && !operation.path.startsWith('/v1/admin/') && !operation.path.startsWith('/v1/signup');
const operatorRoute = (operation: ApiOperation) => operation.path.startsWith('/v1/admin/');

/**
 * A transition that needs another first: the document says both exist, not in which order. The
 * only hand-written knowledge in this file.
 */
const PRECONDITIONS: Record<string, string> = {
  'POST /v1/admin/tenants/{id}/reactivate': 'POST /v1/admin/tenants/{id}/suspend',
  'POST /v1/admin/tenants/{id}/restore': 'POST /v1/admin/tenants/{id}/offboard',
  'POST /v1/admin/tenants/{id}/lifecycle/abort': 'POST /v1/admin/tenants/{id}/offboard',
  // A move's progress and its abort need a move: the generated one (to a schema) starts in the background.
  'GET /v1/admin/tenants/{id}/move': 'POST /v1/admin/tenants/{id}/move',
  'POST /v1/admin/tenants/{id}/move/abort': 'POST /v1/admin/tenants/{id}/move',
};

/**
 * Lifecycle operations whose success needs state one request cannot make: a saga that failed, an
 * archive or certificate the worker produces later, a region this deployment serves (the
 * generator varies the example). Their valid requests are exercised by test/lifecycle-*.spec.ts;
 * their invalid ones still run here.
 */
const VALID_ELSEWHERE = new Set([
  'POST /v1/admin/onboardings',
  'POST /v1/admin/tenants/{id}/lifecycle/retry',
  'GET /v1/admin/tenants/{id}/archive',
  'GET /v1/admin/tenants/{id}/erasure-certificate',
  // A move's progress and abort need a move still running when they are asked, which the
  // generated move (started in the background) may already have finished: test/tenant-moves.spec.ts.
  'GET /v1/admin/tenants/{id}/move',
  'POST /v1/admin/tenants/{id}/move/abort',
  // The generator addresses a grant under another tenant than the one it was issued for (both
  // ensured separately), which rightly answers 404: test/audit-api.spec.ts revokes real grants.
  'DELETE /v1/admin/tenants/{id}/impersonations/{grantId}',
  // Its cursor must name a real event (an unknown one is 400 cursor_unknown), which the generator
  // cannot know: test/noisy-neighbours.spec.ts pages through real history.
  'GET /v1/admin/noisy-tenants/history',
]);

/**
 * The document, built from the running app alone, tells the truth: its examples satisfy its
 * schemas, a request built from it alone succeeds, and every way of breaking a rule it states is
 * refused with a 400 problem+json that writes nothing.
 */
describe('OpenAPI document', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let document: OpenAPIObject;
  let client: ApiClient;
  let generator: RequestGenerator;
  let tenant: TenantRecord;
  let user: Actor;
  let operator: Actor;
  let database: Client;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    api = await startTestApi();
    worker = await startTestWorker();
    document = buildOpenApiDocument(api.app);
    client = await ApiClient.connect(api.server);
    generator = new RequestGenerator(document, client);
    tenant = await createTenant(api, { isolation: 'pool' });
    user = { label: 'tenant user', token: tokenFor(api, tenant) };
    operator = { label: 'operator', token: operatorToken(api) };
    const url = new URL(process.env.DATABASE_ADMIN_URL as string);
    url.pathname = new URL(api.config.DATABASE_URL).pathname;
    database = new Client({ connectionString: url.toString() });
    await database.connect();
  });
  afterAll(async () => {
    await database?.end();
    await client?.close();
    await worker?.close();
    await api?.close();
    await clearPrivateJobQueue();
  });

  it('is served at /docs/openapi.json exactly as buildOpenApiDocument builds it, and /docs answers', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule] }).overrideProvider(BulkheadConfig).useValue(api.config).compile();
    const app = await createHttpApp(moduleRef, api.config);
    try {
      const served = await request(app.getHttpServer()).get('/docs/openapi.json');
      expect(served.status).toBe(200);
      expect(served.body).toEqual(JSON.parse(JSON.stringify(document)));
      const page = await request(app.getHttpServer()).get('/docs/');
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/swagger/i);
    } finally {
      await app.close();
    }
  });

  it('carries the validation rules of the DTOs, derived rather than restated', () => {
    const schemas = document.components?.schemas as Record<string, Schema>;
    expect(schemas.CreateOrderDto.properties?.currency).toMatchObject({ type: 'string', pattern: '^[A-Z]{3}$' });
    expect(schemas.CreateOrderDto.properties?.totalCents).toMatchObject({ type: 'integer', minimum: 0, maximum: 1_000_000_000_000 });
    expect(schemas.CreateOrderDto.properties?.customerId).toMatchObject({ type: 'string', format: 'uuid' });
    expect(schemas.CreateOrderDto.required).toEqual(['customerId', 'totalCents', 'currency']);
    expect(schemas.UpdateCustomerDto.properties?.name).not.toHaveProperty('nullable');
    expect(schemas.UpdateOrderDto.properties?.note).toMatchObject({ nullable: true });
    expect(schemas.RateLimitDto).toMatchObject({ required: ['max', 'durationMs'], additionalProperties: false });
    expect(schemas.CreateTenantDto.properties?.slug.pattern).toBeDefined();
    for (const operation of generator.operations) {
      if (operation.bodySchema) expect({ key: operation.key, closed: operation.body?.additionalProperties }).toEqual({ key: operation.key, closed: false });
      for (const parameter of operation.pathParameters) expect({ key: operation.key, format: parameter.schema.format }).toEqual({ key: operation.key, format: 'uuid' });
      if (operation.secured) {
        for (const status of [401, 403]) expect({ key: operation.key, status, documented: operation.statuses.includes(status) }).toMatchObject({ documented: true });
      }
    }
  });

  it('documents every error response as problem+json with the shared Problem schema', () => {
    const missing: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item as Record<string, { responses: Record<string, { content?: Record<string, { schema?: Schema }> }> }>)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const media = response.content?.['application/problem+json'];
          if (!media || media.schema?.$ref !== '#/components/schemas/Problem' || Object.keys(response.content ?? {}).length !== 1) missing.push(`${method} ${path} ${status}`);
        }
      }
    }
    for (const operation of generator.operations) {
      const takesInput = ['post', 'put', 'patch'].includes(operation.method) || operation.pathParameters.length > 0 || operation.queryParameters.length > 0;
      if (takesInput && !operation.statuses.includes(400)) missing.push(`${operation.key}: no 400`);
      if (operation.pathParameters.length && !operation.statuses.includes(404)) missing.push(`${operation.key}: no 404`);
      if (['post', 'put', 'patch'].includes(operation.method) && !(operation.statuses.includes(413) && operation.statuses.includes(415))) missing.push(`${operation.key}: no 413/415`);
    }
    expect(missing).toEqual([]);
    const orders = document.paths['/v1/orders'].post as { responses: Record<string, { content: Record<string, { examples: Record<string, unknown> }> }> };
    expect(Object.keys(orders.responses['422'].content['application/problem+json'].examples)).toEqual(['idempotency_key_reused', 'customer_reference_unknown']);
    const customers = document.paths['/v1/customers'].post as typeof orders;
    expect(Object.keys(customers.responses['409'].content['application/problem+json'].examples)).toEqual(['idempotency_key_in_progress', 'customer_email_taken']);
  });

  it('documents the Idempotency-Key header on every tenant POST, and on no other operation', () => {
    const keyed = generator.operations
      .filter((operation) => (document.paths[operation.path] as Record<string, { parameters?: Array<{ in: string; name: string }> }>)[operation.method].parameters?.some((parameter) => parameter.in === 'header' && parameter.name === 'Idempotency-Key'))
      .map((operation) => operation.key);
    const tenantPosts = generator.operations.filter((operation) => tenantRoute(operation) && operation.method === 'post').map((operation) => operation.key);
    expect(tenantPosts.length).toBeGreaterThan(4);
    // And on the public signup, which requires it.
    expect(keyed.sort()).toEqual([...tenantPosts, 'POST /v1/signup'].sort());
  });

  it('has only examples that are valid against their own schema', () => {
    const examples = examplesOf(document);
    expect(examples.length).toBeGreaterThan(50);
    const invalid = examples
      .map((example) => ({ where: example.where, errors: generator.validator.errors(example.schema, example.value) }))
      .filter((result) => result.errors.length);
    expect(invalid).toEqual([]);
  });

  it('lets a request generated from the document alone succeed on every tenant operation', async () => {
    const operations = generator.operations.filter(tenantRoute);
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const failures = await exerciseValid(operations, user);
    expect(failures).toEqual([]);
  });

  it('refuses every documented rule broken on a tenant operation with exactly 400 problem+json, writing nothing', async () => {
    // The exports and recalculations of the previous test write when the worker gets to them.
    await backgroundWorkSettled(tenant.id);
    const { failures, variants } = await exerciseInvalid(generator.operations.filter(tenantRoute), user, () => tenantFingerprint(tenant.id));
    expect(variants).toBeGreaterThan(60);
    expect(failures).toEqual([]);
  });

  it('does the same for the operator routes', async () => {
    const operations = generator.operations.filter(operatorRoute);
    expect(operations.length).toBeGreaterThanOrEqual(10);
    expect(await exerciseValid(operations.filter((operation) => !VALID_ELSEWHERE.has(operation.key)), operator)).toEqual([]);
    const { failures, variants } = await exerciseInvalid(operations, operator, operatorFingerprint);
    expect(variants).toBeGreaterThan(20);
    expect(failures).toEqual([]);
  });

  /** Minimal, complete, and (where the document allows null) null-valued requests, each answered 2xx with a body its schema accepts. */
  async function exerciseValid(operations: ApiOperation[], actor: Actor): Promise<string[]> {
    const failures: string[] = [];
    for (const operation of operations) {
      const shapes: RequestOptions[] = [{ optional: 'none' }, { optional: 'all' }];
      if (hasNullableOptional(operation)) shapes.push({ optional: 'all', nullOptional: true });
      for (const shape of shapes) {
        const precondition = PRECONDITIONS[operation.key];
        const prepare = precondition
          ? async (generated: GeneratedRequest) => void (await generator.send({ ...generated, operation: generator.operation(precondition), query: {}, body: undefined }, actor))
          : undefined;
        const sent = await generator.sendValid(operation, actor, { ...shape, fresh: operation.method !== 'get' }, prepare);
        const generated = sent.request;
        const response = await settled(generated, actor, sent.response);
        const label = `${operation.key} ${JSON.stringify(shape)} ${JSON.stringify({ query: generated.query, body: generated.body })}`;
        if (response.status !== operation.success?.status) {
          failures.push(`${label}: ${response.status} ${response.text.slice(0, 300)}`);
          continue;
        }
        const schema = operation.success.schema;
        const body = response.json ?? response.text;
        const errors = schema && response.status !== 204 ? generator.validator.errors(schema, body) : [];
        if (errors.length) failures.push(`${label}: the ${response.status} body breaks its documented schema: ${errors.join('; ')}: ${response.text.slice(0, 300)}`);
      }
    }
    return failures;
  }

  /** Each invalid variant: exactly 400 problem+json, and the fingerprint of what it could have written is unchanged. */
  async function exerciseInvalid(operations: ApiOperation[], actor: Actor, fingerprint: (request: GeneratedRequest) => Promise<string>) {
    const failures: string[] = [];
    let variants = 0;
    for (const operation of operations) {
      const valid = await generator.request(operation, actor, { optional: 'all', fresh: operation.method !== 'get' });
      for (const invalid of generator.invalidRequests(valid)) {
        variants++;
        const before = await fingerprint(invalid.request);
        const response = await generator.send(invalid.request, actor);
        const after = await fingerprint(invalid.request);
        const label = `${operation.key} with ${invalid.label}`;
        if (response.status !== 400 || !response.contentType.startsWith('application/problem+json')) failures.push(`${label}: ${response.status} ${response.text.slice(0, 200)}`);
        if (before !== after) {
          // Which parts changed, so a failure says where the write landed.
          const was = new Set(before.split(','));
          failures.push(`${label}: wrote something (${after.split(',').filter((part) => !was.has(part)).map((part) => part.split(':')[0]).join(', ')})`);
        }
      }
    }
    return { failures, variants };
  }

  /** A documented 409 on a read means "not ready yet" (an export still running): poll it. */
  async function settled(generated: GeneratedRequest, actor: Actor, first: ApiResponse): Promise<ApiResponse> {
    let response = first;
    for (let attempt = 0; attempt < 100 && generated.operation.method === 'get' && response.status === 409 && generated.operation.statuses.includes(409); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      response = await generator.send(generated, actor);
    }
    return response;
  }

  async function backgroundWorkSettled(tenantId: string): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const stats = (await client.send({ method: 'get', path: `/v1/admin/jobs/tenants/${tenantId}`, token: operator.token })).json as { backlog: number; inFlight: number };
      if (stats.backlog === 0 && stats.inFlight === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the jobs of tenant ${tenantId} did not finish`);
  }

  /**
   * Every row of the tenant in every tenant table (a pool tenant's rows live in the shared tables),
   * except the audit trail's, whose whole point is to record the refused request too.
   */
  async function tenantFingerprint(tenantId: string): Promise<string> {
    const tables = await database.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id' AND table_name NOT LIKE 'audit\\_%' ORDER BY table_name`,
    );
    const parts: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await database.query<{ digest: string | null }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM "${table_name}" t WHERE tenant_id = $1`, [tenantId]);
      parts.push(`${table_name}:${rows.rows[0].digest}`);
    }
    return parts.join(',');
  }

  /** The tenants a request names (path id, body slug) and the job policy of the one in the path. */
  async function operatorFingerprint(generated: GeneratedRequest): Promise<string> {
    const ids = Object.values(generated.pathValues).filter((value) => /^[0-9a-f-]{36}$/.test(value));
    const slug = typeof (generated.body as { slug?: unknown } | undefined)?.slug === 'string' ? (generated.body as { slug: string }).slug : '';
    const rows = await database.query<{ digest: string | null }>(
      `SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM tenants t WHERE id = ANY($1::uuid[]) OR slug = $2`,
      [ids, slug],
    );
    const policies = await Promise.all(ids.map((id) => client.send({ method: 'get', path: `/v1/admin/jobs/tenants/${id}`, token: operator.token })));
    return `${rows.rows[0].digest}|${policies.map((policy) => policy.text).join('|')}`;
  }
});

function hasNullableOptional(operation: ApiOperation): boolean {
  const body = operation.body;
  if (!body?.properties) return false;
  return Object.entries(body.properties).some(([name, schema]) => !(body.required ?? []).includes(name) && schema.nullable === true);
}

/** Every example in the document with the schema it illustrates. */
function examplesOf(document: OpenAPIObject): Array<{ where: string; schema: Schema; value: unknown }> {
  const found: Array<{ where: string; schema: Schema; value: unknown }> = [];
  const walkSchema = (schema: Schema | undefined, where: string) => {
    if (!schema || typeof schema !== 'object') return;
    if ('example' in schema) {
      const { example, ...rest } = schema;
      found.push({ where, schema: rest, value: example });
    }
    for (const [name, property] of Object.entries(schema.properties ?? {})) walkSchema(property, `${where}.${name}`);
    if (schema.items) walkSchema(schema.items, `${where}[]`);
    for (const member of schema.allOf ?? []) walkSchema(member, `${where}(allOf)`);
    if (typeof schema.additionalProperties === 'object') walkSchema(schema.additionalProperties, `${where}{}`);
  };
  const walkMedia = (content: Record<string, { schema?: Schema; example?: unknown; examples?: Record<string, { value: unknown }> }> | undefined, where: string) => {
    for (const [type, media] of Object.entries(content ?? {})) {
      walkSchema(media.schema, `${where} ${type}`);
      if (!media.schema) continue;
      if ('example' in media) found.push({ where: `${where} ${type} example`, schema: media.schema, value: media.example });
      for (const [name, example] of Object.entries(media.examples ?? {})) found.push({ where: `${where} ${type} examples.${name}`, schema: media.schema, value: example.value });
    }
  };
  for (const [name, schema] of Object.entries((document.components?.schemas ?? {}) as Record<string, Schema>)) walkSchema(schema, `#/components/schemas/${name}`);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(item as Record<string, unknown>)) {
      const operation = raw as {
        parameters?: Array<{ name: string; schema?: Schema; example?: unknown; examples?: Record<string, { value: unknown }> }>;
        requestBody?: { content?: Record<string, { schema?: Schema }> };
        responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
      };
      const where = `${method.toUpperCase()} ${path}`;
      for (const parameter of operation.parameters ?? []) {
        walkSchema(parameter.schema, `${where} ${parameter.name}`);
        if (parameter.schema && 'example' in parameter) found.push({ where: `${where} ${parameter.name} example`, schema: parameter.schema, value: parameter.example });
        for (const [name, example] of Object.entries(parameter.examples ?? {})) {
          if (parameter.schema) found.push({ where: `${where} ${parameter.name} examples.${name}`, schema: parameter.schema, value: example.value });
        }
      }
      walkMedia(operation.requestBody?.content, `${where} request`);
      for (const [status, response] of Object.entries(operation.responses ?? {})) walkMedia(response.content, `${where} ${status}`);
    }
  }
  return found;
}
