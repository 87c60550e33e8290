import { api } from './api.js';
import type { JobsOverview } from './api-types.js';
import { el, facts, section, table } from './elements.js';
import { PageRender } from './route.js';

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused', 'completed', 'failed'];

/**
 * The fair queue: totals, each BullMQ queue's raw job counts by state, and the most backlogged
 * tenants with their in-flight jobs and oldest wait. In place of bull-board (see the README).
 */
export const jobsPage: PageRender = async (outlet) => {
  const overview = await api.get<JobsOverview>('/v1/admin/jobs');
  outlet.append(
    el('h1', {}, 'Jobs'),
    section('Queue totals', facts(Object.entries(overview.totals).map(([key, value]) => [key, typeof value === 'object' ? JSON.stringify(value) : String(value)]))),
    section(
      'BullMQ queues',
      el('p', { class: 'empty' }, 'Raw job counts by state, as BullMQ keeps them (completed and failed: those retained, not totals). Jobs still buffered per tenant by the fair queue are its backlog above.'),
      table('Jobs by state', ['Queue', ...QUEUE_STATES], overview.queues.map((q) => [el('code', {}, q.name), ...QUEUE_STATES.map((state) => q.states[state] ?? 0)])),
    ),
    section(
      'Most backlogged tenants',
      table('Tenants with a backlog', ['Tenant', 'Backlog', 'In flight', 'Oldest wait', 'Paused', 'Held', 'Parked'], overview.tenants.map((t) => [
        el('a', { attrs: { href: `#/tenants/${t.tenant}` } }, t.tenant),
        t.backlog,
        t.inFlight,
        `${Math.round(t.oldestWaitMs / 1000)} s`,
        String(t.paused),
        String(t.held),
        String(t.parked),
      ])),
    ),
  );
};
