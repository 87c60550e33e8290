import fc from 'fast-check';
import { TenantRecord } from '@bulkhead/control-plane';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

type Op =
  | { kind: 'create'; tenant: number; email: number; name: string }
  | { kind: 'rename'; tenant: number; target: number; name: string }
  | { kind: 'delete'; tenant: number; target: number }
  | { kind: 'list'; tenant: number };

interface ModelRow {
  id: string;
  email: string;
  name: string;
}

/**
 * Random sequences of operations from several tenants, where `target` picks any row created so
 * far by anyone. Each tenant's view of the API must always equal a model built only from its own
 * successful writes: other tenants' rows are invisible and untouchable.
 */
describe('property: each tenant sees exactly its own writes', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('create' as const), tenant: fc.nat(2), email: fc.nat(5), name: fc.string({ minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant('rename' as const), tenant: fc.nat(2), target: fc.nat(40), name: fc.string({ minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant('delete' as const), tenant: fc.nat(2), target: fc.nat(40) }),
    fc.record({ kind: fc.constant('list' as const), tenant: fc.nat(2) }),
  );

  it('holds for random interleavings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 25 }), async (ops) => {
        const tenants: TenantRecord[] = await Promise.all([createTenant(api), createTenant(api), createTenant(api)]);
        const tokens = tenants.map((tenant) => tokenFor(api, tenant));
        const models: Array<Map<string, ModelRow>> = tenants.map(() => new Map());
        const everyId: string[] = [];

        for (const step of ops) {
          const token = tokens[step.tenant];
          const model = models[step.tenant];
          if (step.kind === 'create') {
            const email = `u${step.email}@prop.test`;
            const response = await call(api.server, 'post', '/v1/customers', token, { email, name: step.name });
            const taken = [...model.values()].some((row) => row.email === email);
            expect(response.status).toBe(taken ? 409 : 201);
            if (response.status === 201) {
              model.set(response.body.id, { id: response.body.id, email, name: step.name });
              everyId.push(response.body.id);
            }
          } else if (step.kind === 'rename' && everyId.length) {
            const id = everyId[step.target % everyId.length];
            const response = await call(api.server, 'patch', `/v1/customers/${id}`, token, { name: step.name });
            expect(response.status).toBe(model.has(id) ? 200 : 404);
            const row = model.get(id);
            if (row) row.name = step.name;
          } else if (step.kind === 'delete' && everyId.length) {
            const id = everyId[step.target % everyId.length];
            const response = await call(api.server, 'delete', `/v1/customers/${id}`, token);
            expect(response.status).toBe(model.has(id) ? 204 : 404);
            model.delete(id);
          } else {
            await expectView(token, model);
          }
        }
        for (let t = 0; t < tenants.length; t++) await expectView(tokens[t], models[t]);
      }),
      { numRuns: 25 },
    );
  });

  async function expectView(token: string, model: Map<string, ModelRow>): Promise<void> {
    const response = await call(api.server, 'get', '/v1/customers?limit=100', token);
    expect(response.status).toBe(200);
    const seen = response.body.items.map((row: ModelRow) => ({ id: row.id, email: row.email, name: row.name }));
    expect(seen).toEqual([...model.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
  }
});
