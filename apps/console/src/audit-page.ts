import { api, query } from './api.js';
import type { AuditEntry, Page } from './api-types.js';
import { append, el, field, input, select, table, when } from './elements.js';
import { go, PageRender } from './route.js';
import { auditVerifyControl } from './status-views.js';

const FILTERS = ['tenant', 'action', 'outcome', 'actorKind', 'from', 'requestId', 'after'] as const;

/** The platform trail, or one tenant's trail where it lives, searched on the API's filters, and its chain verified on request. */
export const auditPage: PageRender = async (outlet, route) => {
  const p = route.params;
  const tenant = input('tenant', p.get('tenant') ?? '', { placeholder: 'platform trail' });
  const action = input('action', p.get('action') ?? '', { placeholder: 'POST /v1/admin/tenants/:id/suspend' });
  const outcome = input('outcome', p.get('outcome') ?? '', { placeholder: 'committed, refused…' });
  const from = input('from', p.get('from') ?? '', { placeholder: '2026-11-26T08:00:00Z' });
  const actorKind = select('actorKind', [['', 'any actor'], ...['tenant_user', 'operator', 'job', 'system', 'anonymous'].map((k): [string, string] => [k, k])], p.get('actorKind') ?? '');
  const form = el(
    'form',
    { class: 'filters', attrs: { role: 'search', 'aria-label': 'Search the audit trail' }, on: { submit: (e) => { e.preventDefault(); go('/audit', { tenant: tenant.value.trim(), action: action.value.trim(), outcome: outcome.value.trim(), actorKind: actorKind.value, from: from.value.trim() }); } } },
    field('Tenant id', tenant),
    field('Action', action),
    field('Outcome', outcome),
    field('Actor', actorKind),
    field('From (ISO time)', from),
    el('button', { class: 'primary', attrs: { type: 'submit' } }, 'Search'),
  );
  const where = p.get('tenant') ? `/v1/admin/tenants/${encodeURIComponent(p.get('tenant') ?? '')}/audit` : '/v1/admin/audit';
  const filters = Object.fromEntries(FILTERS.filter((f) => f !== 'tenant').map((f) => [f, p.get(f) ?? undefined]));
  const page = await api.get<Page<AuditEntry>>(`${where}${query({ ...filters, limit: 50 })}`);
  const params = Object.fromEntries(FILTERS.map((f) => [f, p.get(f) ?? undefined]));
  append(
    outlet,
    el('h1', {}, p.get('tenant') ? 'Tenant audit trail' : 'Platform audit trail'),
    auditVerifyControl(
      p.get('tenant') ? `/v1/admin/tenants/${encodeURIComponent(p.get('tenant') ?? '')}/audit/verify` : '/v1/admin/audit/verify',
      p.get('tenant') ? "Verify this tenant's chain" : 'Verify the platform chain',
    ),
    el('p', { class: 'empty' }, 'One chain per request, up to AUDIT_VERIFY_HTTP_MAX_ENTRIES entries; every chain at once, or a longer one: ', el('code', {}, 'npm run bulkhead -- audit verify'), '.'),
    form,
    table('Entries, oldest first', ['Seq', 'At', 'Action', 'Outcome', 'Actor', 'Status', 'Code'], page.items.map((a) => [
      a.seq ?? 'pending',
      when(a.at),
      a.action,
      a.outcome,
      [a.actor.kind, a.actor.subject].filter((v) => typeof v === 'string').join(' '),
      a.status ?? '',
      a.code ?? '',
    ])),
    page.next ? el('a', { attrs: { href: `#/audit${query({ ...params, after: page.next })}`, rel: 'next' } }, 'Later entries →') : null,
  );
};
