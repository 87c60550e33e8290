import request from 'supertest';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

describe('smoke', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('creates and reads a customer', async () => {
    const tenant = await createTenant(api);
    const token = tokenFor(api, tenant);
    const created = await request(api.server).post('/v1/customers').set('Authorization', `Bearer ${token}`).send({ email: 'A@x.io', name: 'A' });
    expect(created.status).toBe(201);
    const got = await request(api.server).get(`/v1/customers/${created.body.id}`).set('Authorization', `Bearer ${token}`);
    expect(got.body.email).toBe('a@x.io');
    const bad = await request(api.server).post('/v1/customers').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('{bad');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
  });
});
