import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { TenantServiceClient } from '@bulkhead/service-client';
import { Controller, Get, Inject, Module, Query } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { ApiModule } from '../apps/api/src/api.module';
import { createHttpApp } from '../apps/api/src/http.setup';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

let calleeUrl = '';

/** A route of the calling service that writes a customer through the other service. */
@Controller('v1/relay-write')
class RelayWriteController {
  constructor(@Inject(TenantServiceClient) private readonly client: TenantServiceClient) {}

  @Get()
  async relay(@Query('credentials') credentials: 'caller' | 'minted'): Promise<{ status: number; body: unknown }> {
    const response = await this.client.request(`${calleeUrl}/v1/customers`, {
      credentials,
      method: 'POST',
      body: { name: 'written through a read grant', email: `${randomUUID()}@example.com` },
    });
    return { status: response.status, body: await response.json() };
  }
}

@Module({ controllers: [RelayWriteController] })
class RelayWriteModule {}

describe('a service call made while an operator impersonates a tenant', () => {
  let callee: TestApi;
  let caller: TestApi;
  let tenant: TenantRecord;
  let grant: string;

  beforeAll(async () => {
    callee = await startTestApi();
    await callee.app.listen(0, '127.0.0.1');
    calleeUrl = `http://127.0.0.1:${(callee.server.address() as AddressInfo).port}`;
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule, RelayWriteModule] }).compile();
    const app = await createHttpApp(moduleRef, loadConfig(), { docs: false });
    caller = { ...callee, app, server: app.getHttpServer(), close: () => app.close() };
    tenant = await createTenant(callee);
    const issued = await call(caller.server, 'post', `/v1/admin/tenants/${tenant.id}/impersonations`, operatorToken(caller), { mode: 'read', reason: 'Ticket 9: read only' });
    expect(issued.status).toBe(201);
    grant = issued.body.grant;
  });
  afterAll(async () => {
    await caller?.close();
    await callee?.close();
  });

  const customers = async () => (await call(callee.server, 'get', '/v1/customers?limit=100', tokenFor(callee, tenant))).body.items as Array<{ name: string }>;

  it('never mints a tenant token from a read-only grant: the write is refused and nothing is written', async () => {
    const response = await call(caller.server, 'get', '/v1/relay-write?credentials=minted', operatorToken(caller), undefined, { 'x-impersonation-grant': grant });
    expectProblem(response, 403, 'impersonation_not_delegable');
    expect((await customers()).map((customer) => customer.name)).not.toContain('written through a read grant');
  });

  it("forwards the caller's grant with the caller's token: the callee applies the same grant (read-only there too)", async () => {
    const response = await call(caller.server, 'get', '/v1/relay-write?credentials=caller', operatorToken(caller), undefined, { 'x-impersonation-grant': grant });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe(403);
    expect(response.body.body.code).toBe('impersonation_read_only');
    expect((await customers()).map((customer) => customer.name)).not.toContain('written through a read grant');
  });
});
