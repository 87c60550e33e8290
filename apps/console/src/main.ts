import { api } from './api.js';
import { auditPage } from './audit-page.js';
import { flagsPage } from './flags-page.js';
import { fleetPage } from './fleet-page.js';
import { clear, el } from './elements.js';
import { jobsPage } from './jobs-page.js';
import { loginPage } from './login-page.js';
import { newTenantPage } from './new-tenant-page.js';
import { noisyPage } from './noisy-page.js';
import { completeOidcLogin } from './oidc-login.js';
import { currentRoute, PageRender } from './route.js';
import { ConsoleSettings, loadSettings } from './settings.js';
import { tenantPage } from './tenant-page.js';
import { tenantsPage } from './tenants-page.js';
import { usagePage } from './usage-page.js';

const NAV: Array<[hash: string, label: string]> = [
  ['#/tenants', 'Tenants'],
  ['#/new-tenant', 'Create tenant'],
  ['#/usage', 'Usage'],
  ['#/flags', 'Flags'],
  ['#/jobs', 'Jobs'],
  ['#/fleet', 'Fleet'],
  ['#/noisy', 'Noisy neighbours'],
  ['#/audit', 'Audit'],
];

function pageFor(path: string[]): PageRender {
  if (path[0] === 'tenants' && path[1]) return tenantPage;
  switch (path[0]) {
    case 'new-tenant':
      return newTenantPage;
    case 'usage':
      return usagePage;
    case 'flags':
      return flagsPage;
    case 'jobs':
      return jobsPage;
    case 'fleet':
      return fleetPage;
    case 'noisy':
      return noisyPage;
    case 'audit':
      return auditPage;
    default:
      return tenantsPage;
  }
}

/** The shell: header with the operator and the navigation, and one page at a time in `main`. */
class ConsoleApp {
  private dispose: (() => void) | void = undefined;
  private readonly root = document.getElementById('app') as HTMLElement;
  private drawing = 0;

  constructor(private readonly settings: ConsoleSettings) {
    window.addEventListener('hashchange', () => void this.draw());
    api.whenSignedOut(() => this.showLogin('Signed out.'));
  }

  showLogin(message = ''): void {
    this.stopPage();
    clear(this.root);
    this.root.append(el('main', { id: 'main' }, loginPage(this.settings, () => void this.draw(), message)));
    document.title = 'Sign in · Bulkhead console';
  }

  async draw(): Promise<void> {
    if (!api.signedIn) return this.showLogin();
    this.stopPage();
    const drawing = ++this.drawing;
    const route = currentRoute();
    const outlet = el('main', { id: 'main', attrs: { 'data-page': route.path[0] ?? 'tenants', 'aria-busy': 'true' } });
    clear(this.root);
    this.root.append(this.header(route.path[0] ?? 'tenants'), outlet);
    try {
      const dispose = await pageFor(route.path)(outlet, route);
      if (drawing !== this.drawing) return dispose?.();
      this.dispose = dispose;
    } catch (error) {
      if (!api.signedIn) return;
      outlet.append(el('p', { class: 'error', attrs: { role: 'alert' } }, (error as Error).message));
    }
    outlet.setAttribute('aria-busy', 'false');
    const heading = outlet.querySelector('h1');
    document.title = `${heading?.textContent ?? 'Console'} · Bulkhead console`;
  }

  private header(current: string): HTMLElement {
    return el(
      'header',
      {},
      el('a', { class: 'brand', attrs: { href: '#/tenants' } }, 'Bulkhead'),
      el('nav', { attrs: { 'aria-label': 'Console' } }, el('ul', {}, ...NAV.map(([hash, label]) => el('li', {}, el('a', { attrs: { href: hash, 'aria-current': hash === `#/${current}` ? 'page' : undefined } }, label))))),
      el('span', { class: 'who' }, api.subject),
      el('button', { attrs: { type: 'button' }, on: { click: () => api.signOut() } }, 'Sign out'),
    );
  }

  private stopPage(): void {
    this.dispose?.();
    this.dispose = undefined;
  }
}

async function start(): Promise<void> {
  const settings = await loadSettings();
  const app = new ConsoleApp(settings);
  try {
    const returned = await completeOidcLogin(settings.oidc);
    if (returned) {
      api.signIn(returned.accessToken);
      location.hash = returned.returnTo;
    }
  } catch (error) {
    return app.showLogin((error as Error).message);
  }
  await app.draw();
}

void start();
