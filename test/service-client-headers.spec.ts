import { TenantRecord } from '@bulkhead/control-plane';
import { TenantServiceClient } from '@bulkhead/service-client';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createTenant, startTestApi, TestApi } from './support/test-app';

/**
 * Header names are case-insensitive: a calling code's `X-Tenant-Id` (or `Authorization`,
 * `X-Impersonation-Grant`) must be replaced by the client's own, not sent beside it.
 */
describe('the service client names the tenant and the credentials itself, whatever case the calling code used', () => {
  let api: TestApi;
  let tenant: TenantRecord;
  let other: TenantRecord;
  let receiver: Server;
  let url = '';
  const received: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    tenant = await createTenant(api);
    other = await createTenant(api);
    receiver = createServer((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/customers`;
  });
  afterAll(async () => {
    await new Promise((resolve) => receiver?.close(resolve));
    await api?.close();
  });

  it('sends one X-Tenant-Id (the context\'s) and one Authorization (the minted token), dropping the calling code\'s in other cases', async () => {
    const client = api.app.get(TenantServiceClient);
    await runWithTenant(tenantContextOf(tenant, 'user-1'), () =>
      client.request(url, { credentials: 'minted', headers: { 'X-Tenant-Id': other.id, Authorization: 'Bearer not-ours', 'X-Impersonation-Grant': 'bhi1.x.y' } }),
    );
    const [headers] = received;
    expect({ tenant: headers['x-tenant-id'], grant: headers['x-impersonation-grant'] }).toEqual({ tenant: tenant.id, grant: undefined });
    expect(headers.authorization).toMatch(/^Bearer [^\s,]+$/);
    expect(headers.authorization).not.toContain('not-ours');
  });
});
