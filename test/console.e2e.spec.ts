import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPg } from '@bulkhead/database';
import type { INestApplicationContext } from '@nestjs/common';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { ConsoleBrowser, launchConsoleBrowser } from './support/console-browser';
import { TestOidcProvider } from './support/test-oidc-provider';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor, uniqueSlug } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

/**
 * The operator console end to end, in Debian's chromium driven by playwright-core (never a
 * downloaded browser): an operator logs in, creates a tenant and watches its onboarding finish,
 * moves it, sees its usage, its usage against its plan's quotas, its rate limits and connections,
 * verifies its audit chain, suspends and reactivates it, impersonates it read-only and offboards
 * it, and verifies the platform chain; each page is screenshotted into test/artifacts/console/ and checked with axe-core, and a
 * tenant named like markup stays text.
 */
const ARTIFACTS = join(__dirname, 'artifacts', 'console');
const XSS_NAME = '<img src=x onerror=alert(1)>';
/** Short grace, sweep and lease periods, so the move and the offboarding finish within the journey. */
const QUICK_LIFECYCLE = { MOVES_GRACE_MS: '300', LIFECYCLE_SWEEP_MS: '200', LIFECYCLE_LEASE_MS: '2000', SILO_IDLE_MS: '500' };
const STEP_TIMEOUT = 30_000;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

// The console is tested as built from its current sources, into a folder of its own: a suite
// running `npm run build` meanwhile (the CLI's suites do, on a fresh clone) rewrites dist/console.
const CONSOLE_DIR = mkdtempSync(join(tmpdir(), 'bulkhead-console-assets-'));
/** A small pro plan, so two orders are a visible share of the quota. */
const PLANS = 'free:orders.created=1000/month|exports.requested=10/day;pro:orders.created=10/month|exports.requested=1000/day;enterprise:';
const ENV = { ...QUICK_LIFECYCLE, CONSOLE_ASSETS_DIR: CONSOLE_DIR, METERING_PLANS: PLANS };
beforeAll(() => {
  const root = join(__dirname, '..');
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'apps/console/tsconfig.json'), '--outDir', CONSOLE_DIR], { stdio: 'pipe' });
  cpSync(join(root, 'apps/console/static'), CONSOLE_DIR, { recursive: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  // Only this run's screenshots and timings (the folder's .gitkeep stays).
  for (const name of readdirSync(ARTIFACTS)) if (/\.(png|json)$/.test(name)) rmSync(join(ARTIFACTS, name));
}, 60_000);
afterAll(() => rmSync(CONSOLE_DIR, { recursive: true, force: true }));

describe('operator console (headless chromium)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let browser: ConsoleBrowser;
  let page: Page;
  let base: string;
  const timings: Record<string, number> = {};
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  beforeAll(async () => {
    api = await startTestApi(ENV);
    worker = await startTestWorker(ENV);
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    browser = await launchConsoleBrowser(STEP_TIMEOUT);
    page = browser.page;
  }, 120_000);

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await browser?.close();
    await worker?.close();
    await api?.close();
  });

  /** Runs one step of the journey and records how long it took (ms) in timings.json. */
  const timed = async <T>(name: string, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await step();
    } finally {
      timings[name] = Date.now() - started;
    }
  };

  const shoot = async (name: string) => {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  };

  /** axe-core, injected through the DevTools protocol (the page's CSP allows no injected script). */
  const expectAccessible = async (name: string) => {
    await page.evaluate(axeSource);
    // Strings, not functions: this file is compiled without the DOM's types.
    const violations = (await page.evaluate("axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)")) as AxeViolation[];
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`);
    expect(serious).toEqual([]);
  };

  const pageLoaded = (name: string) => page.waitForSelector(`main[data-page="${name}"][aria-busy="false"]`);

  it('logs in, creates a tenant, moves it, shows usage, quotas, limits and connections, verifies its chain, suspends, reactivates, impersonates read-only and offboards it', async () => {
    const total = Date.now();
    // The console's own responses: a strict CSP, no referrer.
    const index = await request(api.server).get('/console');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const script = await request(api.server).get('/console/main.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/^text\/javascript/);
    expect(script.headers['content-security-policy']).toBe(index.headers['content-security-policy']);
    expect(script.headers['x-content-type-options']).toBe('nosniff');
    // Only the built files, by bare name: nothing else under or beside the folder.
    for (const path of ['/console/..%2Fpackage.json', '/console/%2E%2E%2F%2E%2E%2Fpackage.json', '/console/tsconfig.json', '/console/nope.js']) {
      const refused = await request(api.server).get(path);
      expect([path, refused.status, refused.body.code]).toEqual([path, 404, 'console_asset_not_found']);
    }

    await timed('login', async () => {
      await page.goto(`${base}/console`);
      await page.waitForSelector('textarea[name="token"]');
      await shoot('01-login');
      await expectAccessible('login');
      await page.fill('textarea[name="token"]', operatorToken(api));
      await page.click('form button[type="submit"]');
      await pageLoaded('tenants');
    });
    // In memory only: nothing in either storage holds the token.
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    await shoot('02-tenants');
    await expectAccessible('tenants');

    // Filters and cursor paging: three tenants of one slug prefix, two a page.
    const prefix = uniqueSlug('pg');
    for (const n of [1, 2, 3]) await createTenant(api, { slug: `${prefix}-${n}` });
    await timed('tenants: filter and page', async () => {
      await page.goto(`${base}/console#/tenants?search=${prefix}&limit=2`);
      await page.waitForSelector(`main[data-page="tenants"][aria-busy="false"] tbody tr:has-text("${prefix}-2")`);
      expect(await page.locator('main tbody tr').allTextContents()).toHaveLength(2);
      await page.click('a[rel="next"]');
      await page.waitForSelector(`main[data-page="tenants"][aria-busy="false"] tbody tr:has-text("${prefix}-3")`);
      expect(await page.locator('main tbody tr').count()).toBe(1);
      expect(await page.locator('a[rel="next"]').count()).toBe(0);
      await page.click('text=← Previous page');
      await page.waitForSelector(`main[data-page="tenants"][aria-busy="false"] tbody tr:has-text("${prefix}-1")`);
    });

    const slug = uniqueSlug('con');
    await timed('create tenant and onboarding', async () => {
      await page.click('nav a[href="#/new-tenant"]');
      await pageLoaded('new-tenant');
      await page.fill('input[name="slug"]', slug);
      await page.fill('input[name="name"]', XSS_NAME);
      await page.selectOption('select[name="tier"]', 'pro');
      await page.selectOption('select[name="isolation"]', 'pool');
      await shoot('03-create-tenant');
      await expectAccessible('create tenant');
      await page.click('form button[type="submit"]');
      await page.waitForSelector('.saga[data-kind="onboarding"][data-status="succeeded"]');
      await page.waitForSelector('[data-testid="tenant-status"]:text-is("active")');
    });
    // The tenant's name is markup-looking text: shown as text, no element made of it, nothing ran.
    expect(await page.textContent('main h1')).toBe(XSS_NAME);
    expect(await page.locator('main img').count()).toBe(0);
    await shoot('04-tenant-onboarded');
    await expectAccessible('tenant');
    const tenantId = ((await page.evaluate('location.hash')) as string).split('/')[2];
    const tenant = { id: tenantId };

    await timed('move pool to schema', async () => {
      await page.selectOption('select[name="move-to"]', 'schema');
      await page.click('form[aria-label="Move"] button[type="submit"]');
      await page.waitForSelector('[data-testid="move"][data-phase="done"]');
      await page.waitForSelector('[data-testid="tenant-isolation"]:text-is("schema")');
    });
    await shoot('05-tenant-moved');

    // Traffic as the tenant (with a customer the impersonation will read), then the usage section.
    const token = tokenFor(api, tenant);
    const customer = await request(api.server).post('/v1/customers').set('authorization', `Bearer ${token}`).send({ name: XSS_NAME, email: `${slug}@example.com` });
    expect(customer.status).toBe(201);
    for (let i = 0; i < 2; i++) {
      const order = await request(api.server).post('/v1/orders').set('authorization', `Bearer ${token}`).send({ customerId: customer.body.id, totalCents: 1250, currency: 'EUR' });
      expect(order.status).toBe(201);
    }
    for (let i = 0; i < 5; i++) expect((await request(api.server).get('/v1/customers').set('authorization', `Bearer ${token}`)).status).toBe(200);
    // Requests admitted from a rate lease are counted in Redis at the limiter's next settle (every
    // 500 ms): wait for these eight before the page reads them.
    await eventually(async () => {
      const counts = await request(api.server).get(`/v1/admin/tenants/${tenantId}/request-counts?minutes=60`).set('authorization', `Bearer ${operatorToken(api)}`);
      const admitted = Object.values(counts.body.admitted as Record<string, number>).reduce((sum, n) => sum + n, 0);
      return admitted >= 8 ? admitted : undefined;
    }, 'the requests counted');
    await timed('usage', async () => {
      await page.click('nav a[href="#/tenants"]');
      await pageLoaded('tenants');
      await page.fill('input[name="search"]', slug);
      await page.click('form[role="search"] button[type="submit"]');
      await page.click(`a[href="#/tenants/${tenantId}"]`);
      await pageLoaded('tenants');
      await page.waitForSelector('figcaption:has-text("requests admitted")');
    });
    const caption = (await page.textContent('figcaption')) ?? '';
    expect(Number(/^(\d+) requests admitted/.exec(caption)?.[1])).toBeGreaterThanOrEqual(6);
    await shoot('06-tenant-usage');

    await timed('quotas, rate limits and connections', async () => {
      // Two orders of the pro plan's ten this month.
      await page.waitForSelector('[data-testid="quotas"] tr:has([data-meter="orders.created"][data-state="ok"]) td:text-is("20%")');
      await page.waitForSelector('[data-testid="rate-limits"] tr:has(td:text-is("read"))');
      await page.waitForSelector('[data-testid="connections"] code:text-is("shared:main")');
    });
    const ordersRow = (await page.locator('[data-testid="quotas"] tr:has([data-meter="orders.created"])').allTextContents()).join(' ');
    expect(ordersRow).toContain('2 orders');
    expect(ordersRow).toContain('10');
    expect(await page.locator('[data-testid="quotas"] [data-meter="exports.requested"]').getAttribute('data-state')).toBe('ok');
    expect(await page.textContent('[data-testid="connections"]')).toContain("Counts of the API instance that answered");
    await shoot('06a-tenant-quotas-limits-connections');
    await expectAccessible('tenant: quotas, limits, connections');

    await timed('verify the tenant audit chain', async () => {
      await page.click('button[name="verify-chain"]');
      await page.waitForSelector('[data-testid="audit-verify"][data-ok="true"]');
    });
    expect(await page.textContent('[data-testid="audit-verify"]')).toContain('Chain intact.');
    await shoot('06b-tenant-audit-verified');
    await expectAccessible('tenant: audit verified');

    await timed('job policy', async () => {
      await page.fill('input[name="job-max-concurrency"]', '2');
      await page.click('form[aria-label="Job policy"] button[type="submit"]');
      await page.waitForSelector('.facts dt:text-is("Policy maxConcurrency") + dd:text-is("2")');
    });

    await timed('suspend and reactivate', async () => {
      await page.click('button:text-is("Suspend")');
      await page.waitForSelector('[data-testid="tenant-status"]:text-is("suspended")');
      expect((await request(api.server).get('/v1/customers').set('authorization', `Bearer ${token}`)).status).toBe(403);
      await shoot('07-tenant-suspended');
      await page.click('button:text-is("Reactivate")');
      await page.waitForSelector('[data-testid="tenant-status"]:text-is("active")');
    });

    await timed('impersonate read-only', async () => {
      await page.fill('input[name="impersonation-reason"]', 'Ticket 4711: customer cannot see orders');
      await page.click('form[aria-label="Impersonate"] button[type="submit"]');
      await page.waitForSelector('h2:text-is("Read-only view as the tenant")');
    });
    // The customer's markup-looking name, read through the grant, is text too.
    expect(await page.locator('section:has(h2:text-is("Read-only view as the tenant")) td', { hasText: XSS_NAME }).count()).toBe(1);
    expect(await page.locator('main img').count()).toBe(0);
    // The view is drawn before the page reads the tenant again: wait for that read to list the grant.
    await page.waitForSelector('section:has(h2:text-is("Impersonation grants")) tbody tr');
    expect(await page.locator('section:has(h2:text-is("Impersonation grants")) tbody tr').count()).toBe(1);
    await shoot('08-tenant-impersonated');

    await timed('offboard (fenced, exported, waiting out the grace period) and restore', async () => {
      await page.click('form[aria-label="Offboard"] button[type="submit"]');
      await page.waitForSelector('.saga[data-kind="offboarding"] tr:has(td:text-is("export")) .status-succeeded');
      await shoot('09-tenant-offboarding');
      await page.click('button:text-is("Restore")');
      await page.waitForSelector('.saga[data-kind="offboarding"][data-status="aborted"]');
      await page.waitForSelector('[data-testid="tenant-status"]:text-is("active")');
    });
    await shoot('10-tenant-restored');

    await timed('offboard with no grace: erased', async () => {
      await page.fill('input[name="grace-days"]', '0');
      await page.click('form[aria-label="Offboard"] button[type="submit"]');
      await page.waitForSelector('.saga[data-kind="offboarding"][data-status="succeeded"]', { timeout: 45_000 });
      await page.waitForSelector('[data-testid="tenant-status"]:text-is("deleted")');
    });
    await shoot('11-tenant-offboarded');

    await timed('flags page: create a flag', async () => {
      await page.click('nav a[href="#/flags"]');
      await pageLoaded('flags');
      await page.fill('input[name="flag-key"]', `console.${slug}`);
      await page.fill('input[name="flag-description"]', XSS_NAME);
      await page.click('form[aria-label="Create a flag"] button[type="submit"]');
      await page.waitForSelector(`main td:text-is("console.${slug}")`);
    });
    expect(await page.locator('main img').count()).toBe(0);
    await shoot('12-flags');
    await expectAccessible('flags');
    // Deleted again: other suites read the same flag catalogue.
    await page.click(`main tr:has(td:text-is("console.${slug}")) button:text-is("Delete")`);
    await page.waitForSelector(`main td:text-is("console.${slug}")`, { state: 'detached' });

    // A schema tenant the registry records one version behind, as `bulkhead migrate` would find it after an upgrade.
    const outdated = await createTenant(api, { slug: uniqueSlug('old'), tier: 'pro' });
    await withPg(api.config.DATABASE_OWNER_URL, 'console-e2e', (owner) => owner.query('UPDATE tenants SET data_version = data_version - 1 WHERE id = $1', [outdated.id]));
    await timed('fleet page', async () => {
      await page.click('nav a[href="#/fleet"]');
      await pageLoaded('fleet');
      await page.waitForSelector(`main tr:has(a:text-is("${outdated.slug}")) td:text-is("${outdated.dataVersion - 1}")`);
      await page.waitForSelector('[data-testid="fleet-connections"] tr:has(td:text-is("main"))');
    });
    await shoot('13-fleet');
    await expectAccessible('fleet');

    for (const [name, link] of [['usage', '#/usage'], ['jobs', '#/jobs'], ['noisy', '#/noisy'], ['audit', '#/audit']] as const) {
      await timed(`${name} page`, async () => {
        await page.click(`nav a[href="${link}"]`);
        await pageLoaded(name);
      });
      await shoot(`13-${name}`);
      await expectAccessible(name);
    }
    // The jobs page showed each BullMQ queue's raw counts (bull-board's view, through the operator API).
    await page.click('nav a[href="#/jobs"]');
    await pageLoaded('jobs');
    expect(await page.locator('section:has(h2:text-is("BullMQ queues")) tbody tr').count()).toBe(1);
    await page.click('nav a[href="#/audit"]');
    await pageLoaded('audit');
    await timed('verify the platform audit chain', async () => {
      await page.click('button:text-is("Verify the platform chain")');
      await page.waitForSelector('[data-testid="audit-verify"][data-ok="true"]');
    });
    await shoot('14a-audit-platform-verified');
    await expectAccessible('audit: platform verified');
    // Every action above went through the operator API and is in the platform trail: searched there.
    for (const action of ['POST /v1/admin/tenants/:id/suspend', 'POST /v1/admin/tenants/:id/impersonations', 'POST /v1/admin/tenants/:id/move', 'POST /v1/admin/tenants/:id/audit/verify', 'audit.verify']) {
      await page.fill('input[name="action"]', action);
      await page.click('form[role="search"] button[type="submit"]');
      await page.waitForSelector(`main[data-page="audit"][aria-busy="false"] tbody td:text-is("${action}")`);
    }
    await shoot('14-audit-search');

    timings.total = Date.now() - total;
    expect(browser.dialogs).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(browser.serverErrors).toEqual([]);
  }, 150_000);
});

describe('operator console: OpenID Connect login (authorization code with PKCE)', () => {
  let provider: TestOidcProvider;
  let api: TestApi;
  let browser: ConsoleBrowser;
  let base: string;

  beforeAll(async () => {
    provider = await TestOidcProvider.start({ clientId: 'bulkhead-console', audience: 'bulkhead-test', subject: 'sso-operator', scope: 'openid bulkhead:operator' });
    // The development issuer off: the only way in is the provider.
    api = await startTestApi({ DEV_ISSUER: 'false', AUTH_ISSUER: provider.issuer, AUTH_AUDIENCE: 'bulkhead-test', CONSOLE_OIDC_CLIENT_ID: 'bulkhead-console', CONSOLE_ASSETS_DIR: CONSOLE_DIR });
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    browser = await launchConsoleBrowser(STEP_TIMEOUT);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await provider?.close();
  });

  it('signs in at the provider, redeems the code with its verifier, keeps the token in memory only, and refuses a return it did not start', async () => {
    const page = browser.page;
    // The CSP lets the page reach the provider (discovery, token) and nothing else beyond itself.
    const csp = (await request(api.server).get('/console')).headers['content-security-policy'] as string;
    expect(csp).toContain(`connect-src 'self' ${new URL(provider.issuer).origin};`);

    await page.goto(`${base}/console`);
    await page.waitForSelector('button:text-is("Sign in with single sign-on")');
    expect(await page.locator('textarea[name="token"]').count()).toBe(0);
    await page.click('button:text-is("Sign in with single sign-on")');
    await page.waitForSelector('main[data-page="tenants"][aria-busy="false"]');
    expect(page.url()).toBe(`${base}/console#/tenants`);
    expect(await page.textContent('header .who')).toBe('sso-operator');
    expect(provider.redeemed).toBe(1);
    expect(provider.refused).toEqual([]);
    expect(await page.evaluate('[localStorage.length, sessionStorage.length, document.cookie]')).toEqual([0, 0, '']);
    await page.screenshot({ path: join(ARTIFACTS, '15-oidc-signed-in.png'), fullPage: true });

    // In memory only: a reload is signed out.
    await page.reload();
    await page.waitForSelector('button:text-is("Sign in with single sign-on")');

    // A code and state this tab never asked for are not redeemed.
    await page.goto(`${base}/console?code=stolen&state=forged`);
    await page.waitForSelector('[role="alert"]:has-text("does not match a login this tab started")');
    expect(provider.redeemed).toBe(1);
    expect(page.url()).toBe(`${base}/console`);
    expect(browser.dialogs).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    expect(browser.serverErrors).toEqual([]);
  }, 60_000);
});

describe('operator console: not built', () => {
  it('answers 503 console_not_built as problem+json, not an empty page', async () => {
    const api = await startTestApi({ CONSOLE_ASSETS_DIR: join(__dirname, 'no-such-console') });
    try {
      const response = await request(api.server).get('/console');
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.code).toBe('console_not_built');
    } finally {
      await api.close();
    }
  });
});
