import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { BrowserContext, chromium, Page } from 'playwright-core';
import request from 'supertest';
import { operatorToken, startTestApi, TestApi, tokenFor, uniqueSlug } from './support/test-app';
import { startTestWorker } from './support/test-worker';

/**
 * The operator console end to end, in Debian's chromium driven by playwright-core (never a
 * downloaded browser): an operator logs in, creates a tenant and watches its onboarding finish,
 * moves it, sees its usage, suspends and reactivates it, impersonates it read-only and offboards
 * it; each page is screenshotted into test/artifacts/console/ and checked with axe-core, and a
 * tenant named like markup stays text.
 */
const ARTIFACTS = join(__dirname, 'artifacts', 'console');
const CHROMIUM = '/usr/bin/chromium';
const XSS_NAME = '<img src=x onerror=alert(1)>';
const ENV = { MOVES_GRACE_MS: '300', LIFECYCLE_SWEEP_MS: '200', LIFECYCLE_LEASE_MS: '2000', SILO_IDLE_MS: '500' };
const STEP_TIMEOUT = 30_000;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

describe('operator console (headless chromium)', () => {
  let api: TestApi;
  let worker: INestApplicationContext;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let userDataDir: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const serverErrors: string[] = [];
  const timings: Record<string, number> = {};
  const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

  beforeAll(async () => {
    // The console is tested as built from its current sources.
    execFileSync('npm', ['run', '-s', 'build:console'], { stdio: 'pipe' });
    mkdirSync(ARTIFACTS, { recursive: true });
    api = await startTestApi(ENV);
    worker = await startTestWorker(ENV);
    await api.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
    userDataDir = mkdtempSync(join(tmpdir(), 'bulkhead-console-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // The browser logs every non-2xx fetch as an error; the console expects some 404s (a tenant
    // never moved has no move), so those are judged by their status below instead.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
    });
    page.on('response', (response) => {
      if (response.status() >= 500) void response.text().then((t) => serverErrors.push(`${response.status()} ${response.request().method()} ${new URL(response.url()).pathname} ${t}`));
    });
  }, 120_000);

  afterAll(async () => {
    writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
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

  it('logs in, creates a tenant, moves it, shows usage, suspends, reactivates, impersonates read-only and offboards it', async () => {
    const total = Date.now();
    // The console's own responses: a strict CSP, no referrer.
    const index = await request(api.server).get('/console');
    expect(index.status).toBe(200);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    expect((await request(api.server).get('/console/..%2Fpackage.json')).status).toBe(404);

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
    expect((await request(api.server).post('/v1/customers').set('authorization', `Bearer ${token}`).send({ name: XSS_NAME, email: `${slug}@example.com` })).status).toBe(201);
    for (let i = 0; i < 5; i++) expect((await request(api.server).get('/v1/customers').set('authorization', `Bearer ${token}`)).status).toBe(200);
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

    for (const [name, link] of [['jobs', '#/jobs'], ['noisy', '#/noisy'], ['audit', '#/audit']] as const) {
      await timed(`${name} page`, async () => {
        await page.click(`nav a[href="${link}"]`);
        await pageLoaded(name);
      });
      await shoot(`12-${name}`);
      await expectAccessible(name);
    }
    // Every action above went through the operator API and is in the platform trail: searched there.
    for (const action of ['POST /v1/admin/tenants/:id/suspend', 'POST /v1/admin/tenants/:id/impersonations', 'POST /v1/admin/tenants/:id/move']) {
      await page.fill('input[name="action"]', action);
      await page.click('form[role="search"] button[type="submit"]');
      await page.waitForSelector(`main[data-page="audit"][aria-busy="false"] tbody td:text-is("${action}")`);
    }
    await shoot('13-audit-search');

    timings.total = Date.now() - total;
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(serverErrors).toEqual([]);
  }, 150_000);
});
