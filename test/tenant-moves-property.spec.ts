import fc from 'fast-check';
import { IsolationModel } from '@bulkhead/config';
import { TenantMover } from '@bulkhead/tenant-moves';
import { call } from './support/http';
import { CustomerModel } from './support/move-load';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

type Op = { kind: 'create'; email: number; name: string } | { kind: 'rename'; target: number; name: string } | { kind: 'delete'; target: number };

const MODELS: IsolationModel[] = ['pool', 'schema', 'silo'];

/**
 * Random writes from several tenants while one of them moves (random pair of models): afterwards
 * every tenant's data equals a model built only from its own acknowledged writes. Each tenant's
 * operations run in order (a client waiting for each answer); tenants run concurrently with each
 * other and with the move.
 */
describe('property: random writes of several tenants during a move equal a model of each tenant', () => {
  let api: TestApi;
  let mover: TenantMover;

  beforeAll(async () => {
    api = await startTestApi({ MOVES_GRACE_MS: '200', MOVES_BATCH_ROWS: '7' });
    mover = api.app.get(TenantMover);
  });
  afterAll(() => api.close());

  const op: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('create' as const), email: fc.nat(30), name: fc.string({ minLength: 1, maxLength: 12 }) }) },
    fc.record({ kind: fc.constant('rename' as const), target: fc.nat(60), name: fc.string({ minLength: 1, maxLength: 12 }) }),
    fc.record({ kind: fc.constant('delete' as const), target: fc.nat(60) }),
  );

  async function play(token: string, ops: Op[], model: Map<string, CustomerModel>, failures: string[]): Promise<void> {
    const ids: string[] = [];
    for (const step of ops) {
      if (step.kind === 'create') {
        const email = `p${step.email}@moves.test`;
        const response = await call(api.server, 'post', '/v1/customers', token, { email, name: step.name });
        const taken = [...model.values()].some((row) => row.email === email);
        if (response.status === 201 && !taken) {
          model.set(response.body.id, { email, name: step.name });
          ids.push(response.body.id);
        } else if (!(response.status === 409 && taken)) failures.push(`create ${response.status} ${response.text}`);
      } else if (ids.length) {
        const id = ids[step.target % ids.length];
        const response = step.kind === 'rename' ? await call(api.server, 'patch', `/v1/customers/${id}`, token, { name: step.name }) : await call(api.server, 'delete', `/v1/customers/${id}`, token);
        const expected = model.has(id) ? (step.kind === 'rename' ? 200 : 204) : 404;
        if (response.status !== expected) failures.push(`${step.kind} ${response.status} (expected ${expected}) ${response.text}`);
        else if (step.kind === 'rename' && model.has(id)) model.get(id)!.name = step.name;
        else if (step.kind === 'delete') model.delete(id);
      }
    }
  }

  async function view(token: string): Promise<Map<string, CustomerModel>> {
    const response = await call(api.server, 'get', '/v1/customers?limit=100', token);
    expect(response.status).toBe(200);
    return new Map(response.body.items.map((row: { id: string; email: string; name: string }) => [row.id, { email: row.email, name: row.name }]));
  }

  it('holds for random interleavings and random pairs of models', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...MODELS.flatMap((from) => MODELS.filter((to) => to !== from).map((to) => [from, to] as const))),
        fc.array(fc.array(op, { minLength: 20, maxLength: 60 }), { minLength: 3, maxLength: 3 }),
        async ([from, to], scripts) => {
          const tenants = [await createTenant(api, { isolation: from }), await createTenant(api, { isolation: 'pool' }), await createTenant(api, { isolation: 'schema' })];
          const tokens = tenants.map((tenant) => tokenFor(api, tenant));
          const models = tenants.map(() => new Map<string, CustomerModel>());
          const failures: string[] = [];
          const requested = await mover.request(tenants[0].id, to);
          const [done] = await Promise.all([mover.run(requested.id), ...scripts.map((ops, t) => play(tokens[t], ops, models[t], failures))]);
          expect(done.phase).toBe('done');
          expect(failures).toEqual([]);
          for (let t = 0; t < tenants.length; t++) expect(await view(tokens[t])).toEqual(models[t]);
          expect(await api.admin.get(tenants[0].id)).toMatchObject({ isolation: to });
        },
      ),
      { numRuns: 6 },
    );
  }, 600_000);
});
