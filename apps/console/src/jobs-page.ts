import { api } from './api.js';
import type { TenantJobs } from './api-types.js';
import { el, facts, section, table } from './elements.js';
import { PageRender } from './route.js';

/** The fair queue: totals, and the most backlogged tenants with their in-flight jobs and oldest wait. */
export const jobsPage: PageRender = async (outlet) => {
  const overview = await api.get<{ totals: Record<string, unknown>; tenants: TenantJobs[] }>('/v1/admin/jobs');
  outlet.append(
    el('h1', {}, 'Jobs'),
    section('Queue totals', facts(Object.entries(overview.totals).map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]))),
    section(
      'Most backlogged tenants',
      table('Tenants with a backlog', ['Tenant', 'Backlog', 'In flight', 'Oldest wait', 'Paused', 'Parked'], overview.tenants.map((t) => [
        el('a', { attrs: { href: `#/tenants/${t.tenant}` } }, t.tenant),
        t.backlog,
        t.inFlight,
        `${Math.round(t.oldestWaitMs / 1000)} s`,
        String(t.paused),
        String(t.parked),
      ])),
    ),
  );
};
