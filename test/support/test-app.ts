import { BulkheadConfig, loadConfig } from '@bulkhead/config';
import { CreateTenantDto, TenantAdmin, TenantRecord } from '@bulkhead/control-plane';
import { DevIssuer } from '@bulkhead/identity';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { ApiModule } from '../../apps/api/src/api.module';
import { createHttpApp } from '../../apps/api/src/http.setup';

export interface TestApi {
  app: NestFastifyApplication;
  server: Server;
  config: BulkheadConfig;
  issuer: DevIssuer;
  admin: TenantAdmin;
  close(): Promise<void>;
}

/** The real API module and HTTP stack, against the real test database and Redis. */
export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  let config: BulkheadConfig;
  let moduleRef;
  try {
    config = loadConfig();
    moduleRef = await Test.createTestingModule({ imports: [ApiModule] })
      .overrideProvider(BulkheadConfig)
      .useValue(config)
      .compile();
  } finally {
    // Restored even when the start fails: the next suite must not inherit these settings.
    process.env = saved;
  }
  const app = await createHttpApp(moduleRef, config, { docs: false });
  return {
    app,
    server: app.getHttpServer() as Server,
    config,
    issuer: new DevIssuer(config),
    admin: app.get(TenantAdmin),
    close: () => app.close(),
  };
}

export function uniqueSlug(prefix = 't'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export async function createTenant(api: TestApi, overrides: Partial<CreateTenantDto> = {}): Promise<TenantRecord> {
  return api.admin.create({ slug: uniqueSlug(), name: 'Test tenant', tier: 'free', ...overrides });
}

export function tokenFor(api: TestApi, tenant: Pick<TenantRecord, 'id'>, subject = 'user-1'): string {
  return api.issuer.mint({ subject, tenantId: tenant.id });
}

export function operatorToken(api: TestApi): string {
  return api.issuer.mint({ subject: 'operator-1', scopes: [api.config.AUTH_OPERATOR_SCOPE] });
}
