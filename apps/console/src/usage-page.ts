import { api, ApiError, query } from './api.js';
import { append, el, field, input, select, table } from './elements.js';
import { go, PageRender } from './route.js';

interface UsagePage {
  meter: string;
  items: Array<{ tenantId: string; slug: string; tier: string; isolation: string; status: string; total: string | null; periods: number }>;
  next: string | null;
}

const DAY_MS = 86_400_000;

/** Every tenant's total of one meter over a range (`GET /v1/admin/usage`), a page of tenants at a time. */
export const usagePage: PageRender = async (outlet, route) => {
  const p = route.params;
  const today = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const values = {
    meter: p.get('meter') ?? 'orders.created',
    from: p.get('from') ?? new Date(today.getTime() - 29 * DAY_MS).toISOString(),
    to: p.get('to') ?? new Date(today.getTime() + DAY_MS).toISOString(),
    granularity: p.get('granularity') ?? 'day',
  };
  const meter = input('meter', values.meter);
  const from = input('from', values.from);
  const to = input('to', values.to);
  const granularity = select('granularity', [['hour', 'hour'], ['day', 'day'], ['month', 'month']], values.granularity);
  append(
    outlet,
    el('h1', {}, 'Usage'),
    el(
      'form',
      { class: 'filters', attrs: { role: 'search', 'aria-label': 'Usage range' }, on: { submit: (e) => { e.preventDefault(); go('/usage', { meter: meter.value.trim(), from: from.value.trim(), to: to.value.trim(), granularity: granularity.value }); } } },
      field('Meter', meter),
      field('From (ISO time)', from),
      field('To (ISO time)', to),
      field('Period', granularity),
      el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Show'),
    ),
  );
  try {
    const page = await api.get<UsagePage>(`/v1/admin/usage${query({ ...values, after: p.get('after'), limit: 50 })}`);
    append(
      outlet,
      table(`${page.meter} per tenant`, ['Tenant', 'Tier', 'Model', 'Read', 'Total', 'Periods with usage'], page.items.map((u) => [
        el('a', { attrs: { href: `#/tenants/${u.tenantId}` } }, u.slug),
        u.tier,
        u.isolation,
        u.status,
        u.total ?? '—',
        u.periods,
      ])),
      page.next ? el('a', { attrs: { href: `#/usage${query({ ...values, after: page.next })}`, rel: 'next' } }, 'Next tenants →') : null,
    );
  } catch (error) {
    append(outlet, el('p', { class: 'error', attrs: { role: 'alert' } }, error instanceof ApiError ? `${error.code}: ${error.detail}` : (error as Error).message));
  }
};
