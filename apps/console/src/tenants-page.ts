import { api, query } from './api.js';
import { MODELS, Page, STATUSES, TIERS, Tenant } from './api-types.js';
import { el, field, input, select, table } from './elements.js';
import { go, PageRender } from './route.js';

const PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 200;
const FILTERS = ['status', 'tier', 'isolation', 'region', 'search'] as const;

const options = (values: string[], any: string): Array<[string, string]> => [['', any], ...values.map((v): [string, string] => [v, v])];

/**
 * Every tenant, filtered on the API's own filters and paged by its cursor (`after` the last id):
 * a page costs the same at tenant 100,000 as at tenant 1. The trail of cursors is kept in the
 * address, so Back returns to the previous page.
 */
export const tenantsPage: PageRender = async (outlet, route) => {
  const p = route.params;
  const controls = {
    status: select('status', options(STATUSES, 'any status'), p.get('status') ?? ''),
    tier: select('tier', options(TIERS, 'any tier'), p.get('tier') ?? ''),
    isolation: select('isolation', options(MODELS, 'any model'), p.get('isolation') ?? ''),
    region: input('region', p.get('region') ?? '', { placeholder: 'local' }),
    search: input('search', p.get('search') ?? '', { placeholder: 'slug prefix' }),
  };
  const filters = (): Record<string, string> => Object.fromEntries(FILTERS.map((name) => [name, controls[name].value.trim()]));
  const form = el(
    'form',
    { class: 'filters', attrs: { role: 'search', 'aria-label': 'Filter tenants' }, on: { submit: (event) => { event.preventDefault(); go('/tenants', { ...filters(), limit: p.get('limit') ?? undefined }); } } },
    field('Status', controls.status),
    field('Tier', controls.tier),
    field('Model', controls.isolation),
    field('Region', controls.region),
    field('Slug starts with', controls.search),
    el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Filter'),
  );
  const trail = (p.get('trail') ?? '').split(',').filter(Boolean);
  const asked = Number(p.get('limit'));
  const limit = Number.isInteger(asked) && asked >= 1 && asked <= MAX_PAGE_SIZE ? asked : PAGE_SIZE;
  const after = trail[trail.length - 1];
  const page = await api.get<Page<Tenant>>(`/v1/admin/tenants${query({ ...Object.fromEntries(FILTERS.map((f) => [f, p.get(f) ?? undefined])), after, limit })}`);
  const current = { ...Object.fromEntries(FILTERS.map((f) => [f, p.get(f) ?? undefined])), limit: limit === PAGE_SIZE ? undefined : String(limit) };
  const rows = page.items.map((t) => [
    el('a', { attrs: { href: `#/tenants/${t.id}` } }, t.slug),
    t.name,
    t.tier,
    t.isolation,
    el('span', { class: `status status-${t.status}` }, t.status),
    t.region,
    t.cluster,
  ]);
  const pager = el(
    'nav',
    { class: 'pager', attrs: { 'aria-label': 'Pages' } },
    trail.length > 0 ? el('a', { attrs: { href: hashOf({ ...current, trail: trail.slice(0, -1).join(',') }) } }, '← Previous page') : null,
    el('span', {}, `Page ${trail.length + 1}`),
    page.next ? el('a', { attrs: { href: hashOf({ ...current, trail: [...trail, page.next].join(',') }), rel: 'next' } }, 'Next page →') : null,
  );
  outlet.append(
    el('div', { class: 'title-row' }, el('h1', {}, 'Tenants'), el('a', { class: 'button primary', attrs: { href: '#/new-tenant' } }, 'Create tenant')),
    form,
    table('Tenants', ['Slug', 'Name', 'Tier', 'Model', 'Status', 'Region', 'Cluster'], rows),
    pager,
  );
};

function hashOf(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) q.set(key, value);
  const text = q.toString();
  return `#/tenants${text ? `?${text}` : ''}`;
}
