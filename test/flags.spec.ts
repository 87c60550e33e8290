import { loadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { BulkheadFlagProvider, RequireFlag, rolloutBucket, TenantFlags } from '@bulkhead/flags';
import { runWithTenant, tenantContextOf } from '@bulkhead/tenancy';
import { Controller, Get, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ErrorCode, EvaluationDetails, FlagValue, OpenFeature } from '@openfeature/server-sdk';
import { randomUUID } from 'node:crypto';
import { ApiModule } from '../apps/api/src/api.module';
import { createHttpApp } from '../apps/api/src/http.setup';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

@Controller('v1/flag-probe')
class FlagProbeController {
  @Get()
  @RequireFlag('probe.gated')
  probe(): { ok: true } {
    return { ok: true };
  }
}

@Module({ controllers: [FlagProbeController] })
class FlagProbeModule {}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition never held');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe('feature flags', () => {
  let one: TestApi;
  let two: TestApi;
  let operator: string;
  let free: TenantRecord;
  let pro: TenantRecord;
  let enterprise: TenantRecord;

  beforeAll(async () => {
    one = await startTestApi();
    // The second instance carries a route behind a flag; same database and Redis as the first.
    const config = loadConfig();
    const moduleRef = await Test.createTestingModule({ imports: [ApiModule, FlagProbeModule] }).compile();
    const app = await createHttpApp(moduleRef, config, { docs: false });
    two = { ...one, app, server: app.getHttpServer(), close: () => app.close() };
    operator = operatorToken(one);
    free = await createTenant(one, { tier: 'free', isolation: 'pool' });
    pro = await createTenant(one, { tier: 'pro', isolation: 'schema' });
    enterprise = await createTenant(one, { tier: 'enterprise', isolation: 'silo' });
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
  });

  const effective = async (api: TestApi, tenant: TenantRecord, key: string) => {
    const response = await call(api.server, 'get', '/v1/flags', tokenFor(api, tenant));
    expect(response.status).toBe(200);
    return (response.body.items as Array<{ key: string; value: boolean; variant: string }>).find((flag) => flag.key === key);
  };

  it('resolves override, then tier value, then default, for each tenant from its own token', async () => {
    const key = `f.${randomUUID().slice(0, 8)}`;
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: false, tierValues: { enterprise: true } });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), key, defaultValue: false, tierValues: { enterprise: true }, rolloutPercent: null, overrides: [] });
    expect(await effective(one, free, key)).toEqual({ key, value: false, variant: 'default' });
    expect(await effective(one, enterprise, key)).toEqual({ key, value: true, variant: 'tier:enterprise' });
    // Ids in upper case name the same flag and tenant (they used to write, then answer 404).
    const upper = await call(one.server, 'put', `/v1/admin/flags/${id.toUpperCase()}/tenants/${pro.id.toUpperCase()}`, operator, { value: true });
    expect({ status: upper.status, id: upper.body.id }).toEqual({ status: 200, id });
    expect(await effective(one, pro, key)).toEqual({ key, value: true, variant: 'override' });
    // An override wins over the tier too.
    expect((await call(one.server, 'put', `/v1/admin/flags/${id}/tenants/${enterprise.id}`, operator, { value: false })).status).toBe(200);
    expect(await effective(one, enterprise, key)).toEqual({ key, value: false, variant: 'override' });
    // Nothing the client sends selects another tenant.
    const smuggled = await call(one.server, 'get', '/v1/flags', tokenFor(one, free), undefined, { 'x-tenant-id': pro.id });
    expectProblem(smuggled, 403, 'tenant_mismatch');
  });

  it('rolls out to the tenants whose hashed bucket is under the percentage, and raising it only adds tenants', async () => {
    const key = `r.${randomUUID().slice(0, 8)}`;
    const tenants = [free, pro, enterprise];
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: false, rolloutPercent: 0 });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    for (const percent of [0, 30, 60, 100]) {
      expect((await call(one.server, 'put', `/v1/admin/flags/${id}`, operator, { defaultValue: false, rolloutPercent: percent })).status).toBe(200);
      for (const tenant of tenants) expect((await effective(one, tenant, key))?.value).toBe(rolloutBucket(key, tenant.id) < percent);
    }
    // The buckets spread: over many tenant ids, about the percentage land inside.
    const inside = Array.from({ length: 10_000 }, () => rolloutBucket(key, randomUUID())).filter((bucket) => bucket < 25).length;
    expect(inside).toBeGreaterThan(2200);
    expect(inside).toBeLessThan(2800);
  });

  it('reaches every instance at once through pub/sub, well before the periodic reload', async () => {
    const key = `p.${randomUUID().slice(0, 8)}`;
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: false });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await eventually(async () => (await effective(two, free, key))?.value === false);
    expect((await call(one.server, 'put', `/v1/admin/flags/${id}/tenants/${free.id}`, operator, { value: true })).status).toBe(200);
    const took = await eventually(async () => (await effective(two, free, key))?.value === true);
    expect(took).toBeLessThan(5000);
    expect((await call(one.server, 'delete', `/v1/admin/flags/${id}`, operator)).status).toBe(204);
    await eventually(async () => (await effective(two, free, key)) === undefined);
  });

  it('gates a route with @RequireFlag: 403 feature_disabled until the flag is on for the tenant', async () => {
    const token = tokenFor(two, pro);
    expectProblem(await call(two.server, 'get', '/v1/flag-probe', token), 403, 'feature_disabled');
    expect((await call(one.server, 'post', '/v1/admin/flags', operator, { key: 'probe.gated', defaultValue: false, tierValues: { pro: true } })).status).toBe(201);
    await eventually(async () => (await call(two.server, 'get', '/v1/flag-probe', token)).status === 200);
    expectProblem(await call(two.server, 'get', '/v1/flag-probe', tokenFor(two, free)), 403, 'feature_disabled');
  });

  it('takes the targeting key only from the unit of work: another tenant named in the context gets the default', async () => {
    const key = `c.${randomUUID().slice(0, 8)}`;
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: false });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expect((await call(one.server, 'put', `/v1/admin/flags/${id}/tenants/${pro.id}`, operator, { value: true })).status).toBe(200);
    const flags = one.app.get(TenantFlags);
    const domain = `probe-${randomUUID()}`;
    await OpenFeature.setProviderAndWait(domain, flags.provider as BulkheadFlagProvider);
    const client = OpenFeature.getClient(domain);
    await runWithTenant(tenantContextOf(free, 'u'), async () => {
      // free asks as pro: refused, the caller's default.
      const details = await client.getBooleanDetails(key, false, { targetingKey: pro.id });
      expect(details).toMatchObject({ value: false, errorCode: ErrorCode.INVALID_CONTEXT });
      expect(await flags.isEnabled(key)).toBe(false);
    });
    await runWithTenant(tenantContextOf(pro, 'u'), async () => {
      expect(await flags.isEnabled(key)).toBe(true);
      expect(await client.getBooleanValue(key, false, { targetingKey: pro.id })).toBe(true);
    });
    // No tenant at all: the default.
    expect(await flags.isEnabled(key)).toBe(false);
    expect((await client.getBooleanDetails(key, true)).errorCode).toBe(ErrorCode.TARGETING_KEY_MISSING);
  });

  it('runs OpenFeature hooks as soon as one is registered, with the same answers as without', async () => {
    const key = `h.${randomUUID().slice(0, 8)}`;
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: false, tierValues: { pro: true } });
    expect(created.status).toBe(201);
    const flags = one.app.get(TenantFlags);
    const answers = () =>
      Promise.all(
        [free, pro].map((tenant) =>
          runWithTenant(tenantContextOf(tenant, 'u'), async () => [await flags.isEnabled(key), await flags.isEnabled('no.such.flag'), await flags.value(key, 'fallback')]),
        ),
      );
    await eventually(async () => (await answers())[1][0] === true);
    const direct = await answers();
    expect(direct).toEqual([
      [false, false, 'fallback'],
      [true, false, 'fallback'],
    ]);
    const seen: string[] = [];
    const hook = { after: (context: { flagKey: string }, details: EvaluationDetails<FlagValue>) => void seen.push(`${context.flagKey}=${String(details.value)}`) };
    OpenFeature.addHooks(hook);
    try {
      expect(await answers()).toEqual(direct);
      // Through the SDK: the hook saw each evaluation that resolved (not the missing flag, not the type mismatch).
      expect(seen.sort()).toEqual([`${key}=false`, `${key}=true`]);
    } finally {
      OpenFeature.clearHooks();
    }
    seen.length = 0;
    expect(await answers()).toEqual(direct);
    expect(seen).toEqual([]);
  });

  it('answers problem+json for unknown flags and tenants and for bad keys', async () => {
    expectProblem(await call(one.server, 'get', `/v1/admin/flags/${randomUUID()}`, operator), 404, 'flag_not_found');
    expectProblem(await call(one.server, 'get', '/v1/admin/flags/not-a-uuid', operator), 400);
    expectProblem(await call(one.server, 'put', `/v1/admin/flags/${randomUUID()}/tenants/${free.id}`, operator, { value: true }), 404, 'flag_not_found');
    const key = `n.${randomUUID().slice(0, 8)}`;
    const created = await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: true });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    expectProblem(await call(one.server, 'post', '/v1/admin/flags', operator, { key, defaultValue: true }), 409, 'flag_exists');
    expectProblem(await call(one.server, 'put', `/v1/admin/flags/${id}/tenants/${randomUUID()}`, operator, { value: true }), 404, 'tenant_not_found');
    expectProblem(await call(one.server, 'post', '/v1/admin/flags', operator, { key: 'Bad Key', defaultValue: true }), 400, 'validation_failed');
    expectProblem(await call(one.server, 'post', '/v1/admin/flags', operator, { key: 'x.y', defaultValue: 'yes' }), 400, 'validation_failed');
    // Tenants cannot set flags.
    expectProblem(await call(one.server, 'post', '/v1/admin/flags', tokenFor(one, free), { key: 'z.z', defaultValue: true }), 403);
  });
});
