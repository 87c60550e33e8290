import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { DevIssuer } from '@bulkhead/identity';
import { startApiProcess as startApi, waitUntilAnswering } from './support/api-process';
import { runCli } from './support/cli';
import { freePort } from './support/fault-services';

/** The real `main.ts` as a process: its logs, its health endpoints and its refusals at start. */
describe('the API process', () => {
  it('logs JSON lines carrying the tenant id and request id, and answers health checks', async () => {
    // The tenant first: a slow CLI run between two requests would outlive the server's keep-alive.
    const created = runCli(['tenant', 'create', '--slug', `log-${Date.now().toString(36)}`, '--name', 'Logs', '--json']);
    const tenant = JSON.parse(created.stdout) as TenantRecord;
    const port = await freePort();
    const api = startApi({ PORT: String(port), LOG_LEVEL: 'info' });
    try {
      await waitUntilAnswering(api, `http://127.0.0.1:${port}/health/live`, 120);
      // The first probes arrive together, as a load balancer's may: each waits for the probe's
      // one Redis connection (they answered 503 "redis is unreachable" while it connected).
      const together = await Promise.all([1, 2, 3].map(() => fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.status)));
      expect(together).toEqual([200, 200, 200]);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });

      const token = new DevIssuer(loadConfig()).mint({ subject: 'log-user', tenantId: tenant.id });
      const response = await fetch(`http://127.0.0.1:${port}/v1/customers`, {
        headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': 'req-abcdef123456' },
      });
      expect({ status: response.status, output: response.status === 200 ? '' : api.output() }).toEqual({ status: 200, output: '' });
      expect(response.headers.get('x-request-id')).toBe('req-abcdef123456');

      await new Promise((resolve) => setTimeout(resolve, 200));
      const lines = api
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const completed = lines.find((line) => (line.req as { id?: string } | undefined)?.id === 'req-abcdef123456');
      expect(completed).toMatchObject({ tenantId: tenant.id, msg: 'request completed' });
      expect(api.output()).not.toContain(token);
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
    }
  }, 60_000);

  it('refuses to start, with one sentence, when the runtime role could bypass RLS', async () => {
    const api = startApi({ PORT: String(await freePort()), DATABASE_URL: loadConfig().DATABASE_OWNER_URL });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/^bulkhead: Refusing to start: the runtime database role could bypass row-level security/m);
  }, 60_000);

  it('says how to start PostgreSQL when it is unreachable', async () => {
    const api = startApi({ PORT: String(await freePort()), DATABASE_URL: 'postgres://bulkhead_app:x@127.0.0.1:1/bulkhead_test' });
    expect(await api.exited).toBe(1);
    expect(api.output().trim()).toBe(
      'bulkhead: PostgreSQL is not reachable at 127.0.0.1:1. Start it with `docker compose up -d` (or start your local PostgreSQL service) and check the DATABASE_*_URL settings.',
    );
  }, 60_000);

  it('says where the keys should come from when AUTH_ISSUER has no discovery document and AUTH_JWKS_URI is unset', async () => {
    const issuer = `http://127.0.0.1:${await freePort()}/realms/none`;
    const api = startApi({ PORT: String(await freePort()), DEV_ISSUER: 'false', AUTH_ISSUER: issuer });
    expect(await api.exited).toBe(1);
    expect(api.output().trim()).toBe(
      `bulkhead: AUTH_JWKS_URI is not set and DEV_ISSUER is off, and the OpenID discovery document of AUTH_ISSUER at ${issuer}/.well-known/openid-configuration could not be fetched (ECONNREFUSED): set AUTH_JWKS_URI to your identity provider's JWKS URL, or DEV_ISSUER=true for the development issuer.`,
    );
  }, 60_000);

  it('names every bad setting at start', async () => {
    const api = startApi({ PORT: 'eighty', AUTH_ALGORITHMS: 'HS256', REDIS_URL: 'localhost' });
    expect(await api.exited).toBe(1);
    expect(api.output()).toMatch(/PORT/);
    expect(api.output()).toMatch(/AUTH_ALGORITHMS may only list RS256 and ES256/);
    expect(api.output()).toMatch(/REDIS_URL must be a redis/);
  }, 60_000);
});
