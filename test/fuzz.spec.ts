import { clearPrivateJobQueue } from './support/private-job-queue';
import { IsolationModel } from '@bulkhead/config';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import { Actor, ApiClient, FuzzBase, fuzzFailure, fuzzRequests, RequestGenerator, sendFuzzRequests } from '@bulkhead/testing';
import type { AddressInfo } from 'node:net';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Change it to explore other mutations; a failure prints enough to replay the request by hand. */
const SEED = 20_250_608;
const REQUESTS = 10_500;
const MODELS: IsolationModel[] = ['pool', 'schema', 'silo'];
/** About 50 s alone on two cores; more when the other jest worker runs a heavy suite beside it. */
const TIMEOUT_MS = 240_000;

/**
 * Seeded mutations of valid requests generated from the OpenAPI document, on every operation,
 * as a tenant of each isolation model and as the operator: nothing answers 5xx, and every error
 * is problem+json.
 */
describe('fuzz: every operation of the document', () => {
  let api: TestApi;
  let client: ApiClient;

  beforeAll(async () => {
    await clearPrivateJobQueue();
    // Under this much concurrency a tenant's reads would be shed (503 overloaded, by design: load,
    // not bad input). Two units of work per tenant keep each pool, silo pools of 2 included,
    // under the threshold; the rest wait in the tenant's line, and on a machine starved by other
    // suites that line may take longer than the default second of queueing (shedding under load
    // has suites of its own).
    api = await startTestApi({ TENANT_MAX_CONNECTIONS: '2', POOL_QUEUE_BUDGET_MS: '10000' });
    client = await ApiClient.connect(api.server);
  });
  afterAll(async () => {
    await client?.close();
    await api?.close();
    await clearPrivateJobQueue();
  });

  it(`answers ${REQUESTS} mutated requests (seed ${SEED}) without a 5xx, every error as problem+json`, async () => {
    const document = buildOpenApiDocument(api.app);
    const generator = new RequestGenerator(document, client);
    const tenants: Actor[] = [];
    for (const isolation of MODELS) tenants.push({ label: `${isolation} tenant`, token: tokenFor(api, await createTenant(api, { isolation })) });
    const operator: Actor = { label: 'operator', token: operatorToken(api) };

    const bases: FuzzBase[] = [];
    for (const operation of generator.operations) {
      // A signup's status is named by the id its POST answers, which no collection of the
      // document creates; test/lifecycle-onboarding.spec.ts covers it (the POST is fuzzed here).
      if (operation.key === 'GET /v1/signup/{id}') continue;
      const admin = operation.path.startsWith('/v1/admin/');
      for (const actor of admin ? [operator] : operation.secured ? tenants : [tenants[0]]) {
        bases.push({ actor, request: await generator.request(operation, actor, { optional: 'all' }) });
      }
    }
    const requests = fuzzRequests(bases, { seed: SEED, count: REQUESTS, actors: [...tenants, operator] });
    const { port } = api.server.address() as AddressInfo;
    const results = await sendFuzzRequests(`http://127.0.0.1:${port}`, requests, { concurrency: 24 });

    const failures = new Map<string, string>();
    for (const result of results) {
      const failure = fuzzFailure(result);
      if (!failure) continue;
      const { request } = result;
      const key = `${request.operation} [${request.mutations.join(', ')}] -> ${failure.slice(0, 120)}`;
      if (!failures.has(key)) failures.set(key, `${request.method} ${request.path.slice(0, 300)} ${JSON.stringify(request.headers).slice(0, 300)} ${request.body?.toString('utf8').slice(0, 300) ?? ''}`);
    }
    expect([...failures].map(([what, replay]) => `${what}\n    ${replay}`)).toEqual([]);

    // The fuzz reached every operation and got past the edge: successes and domain answers, not only 400s.
    expect(results).toHaveLength(REQUESTS);
    expect(new Set(results.map((result) => result.request.operation))).toEqual(
      new Set(generator.operations.map((operation) => operation.key).filter((key) => key !== 'GET /v1/signup/{id}')),
    );
    const statuses = new Set(results.map((result) => result.status));
    for (const status of [200, 201, 204, 400, 401, 403, 404, 413, 415]) expect({ status, seen: statuses.has(status) }).toEqual({ status, seen: true });
  }, TIMEOUT_MS);
});
