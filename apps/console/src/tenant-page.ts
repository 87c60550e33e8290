import { api, ApiError } from './api.js';
import type { AuditEntry, AuditVerify, Flag, Grant, IssuedGrant, Move, Page, RequestCounts, Saga, Tenant, TenantConnections, TenantJobs, TenantQuotas, TenantRateLimits } from './api-types.js';
import { MODELS } from './api-types.js';
import { append, button, Child, clear, el, facts, field, input, section, select, table, when } from './elements.js';
import { PageRender } from './route.js';
import { auditVerifyView, quotasView, rateLimitsView, tenantConnectionsView } from './status-views.js';
import { requestChart } from './usage-chart.js';

const POLL_MS = 1000;
/** While an offboarding only waits out a grace period of days, reading every second is waste. */
const GRACE_POLL_MS = 15_000;
const MOVE_DONE = new Set(['done', 'aborted', 'failed']);

interface Snapshot {
  tenant: Tenant;
  sagas: Saga[];
  move: Move | undefined;
  counts: RequestCounts | undefined;
  /** Not read while the tenant is leaving or erased: its placement is fenced or gone. */
  quotas: TenantQuotas | undefined;
  limits: TenantRateLimits | undefined;
  connections: TenantConnections | undefined;
  flags: Flag[];
  jobs: TenantJobs | undefined;
  grants: Grant[];
  audit: AuditEntry[];
  certificate: Record<string, unknown> | undefined;
  /** Offboarding or erased: its grants and trail are not read. */
  leaving: boolean;
  /** Sections that could not be read this time, and why. */
  failures: string[];
}

/**
 * One section's read: its value, or why it could not be read (shown in its place, so one section
 * down is not the page down: an erased tenant's trail, say). Codes in `absent` mean "none yet".
 */
async function settle<T>(read: Promise<T>, failures: string[], label: string, absent: string[] = []): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ApiError && absent.includes(error.code)) return undefined;
    failures.push(`${label}: ${error instanceof ApiError ? `${error.code}: ${error.detail}` : (error as Error).message}`);
    return undefined;
  }
}

/**
 * One tenant: placement, lifecycle sagas step by step, its newest move, its API requests, its
 * usage against its plan's quotas, its rate limits and connections, flags, jobs, impersonation
 * grants and audit trail (with a verify button), and every operator action on it. While a saga
 * or a move is under way the page reads again every second.
 */
export const tenantPage: PageRender = async (outlet, route) => {
  const id = route.path[1];
  const base = `/v1/admin/tenants/${encodeURIComponent(id)}`;
  const notice = el('p', { class: 'notice', attrs: { role: 'status', 'aria-live': 'polite' } });
  const body = el('div');
  const impersonation = el('div');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let wasBusy = false;
  /** The last verdict of "Verify chain", kept across the page's reads. */
  let lastVerify: AuditVerify | undefined;
  // The actions' forms are drawn again only when what they offer changes, so a poll never wipes
  // what the operator is typing (or the button they are about to press).
  let actionsNode: { key: string; node: HTMLElement } | undefined;
  const actionsFor = (snapshot: Snapshot, h: Handlers): HTMLElement => {
    const last = snapshot.sagas[snapshot.sagas.length - 1];
    const key = [snapshot.tenant.status, snapshot.tenant.isolation, snapshot.tenant.cluster, last?.kind, last?.status].join('|');
    if (actionsNode?.key !== key) actionsNode = { key, node: actions(snapshot, h) };
    return actionsNode.node;
  };

  const read = async (): Promise<Snapshot> => {
    const failures: string[] = [];
    const [tenant, lifecycle] = await Promise.all([
      api.get<Tenant>(base),
      settle(api.get<{ sagas: Saga[] }>(`${base}/lifecycle`), failures, 'Lifecycle', ['lifecycle_not_found']),
    ]);
    // An erased tenant's trail and grants went with its data (only the certificate is left), and
    // while it is offboarding the erasure may be under way: they are not read then.
    const erased = tenant.status === 'deleted';
    const leaving = erased || (lifecycle?.sagas ?? []).some((saga) => saga.kind === 'offboarding' && (saga.status === 'running' || saga.status === 'compensating'));
    // Nor before its onboarding made its storage: the API answers 409 tenant_trail_unavailable.
    const provisioning = tenant.status === 'provisioning';
    const [move, counts, quotas, limits, connections, flags, jobs, grants, audit, certificate] = await Promise.all([
      settle(api.get<Move>(`${base}/move`), failures, 'Move', ['move_not_found']),
      settle(api.get<RequestCounts>(`${base}/request-counts?minutes=60`), failures, 'Usage'),
      leaving || provisioning ? undefined : settle(api.get<TenantQuotas>(`/v1/admin/usage/tenants/${encodeURIComponent(id)}`), failures, 'Quotas'),
      settle(api.get<TenantRateLimits>(`${base}/rate-limits`), failures, 'Rate limits'),
      settle(api.get<TenantConnections>(`${base}/connections`), failures, 'Connections'),
      settle(api.get<{ items: Flag[] }>('/v1/admin/flags'), failures, 'Flags'),
      settle(api.get<TenantJobs>(`/v1/admin/jobs/tenants/${encodeURIComponent(id)}`), failures, 'Jobs'),
      leaving || provisioning ? undefined : settle(api.get<{ items: Grant[] }>(`${base}/impersonations`), failures, 'Impersonation grants'),
      leaving || provisioning ? undefined : settle(api.get<Page<AuditEntry>>(`${base}/audit?limit=20`), failures, 'Audit trail'),
      erased ? settle(api.get<Record<string, unknown>>(`${base}/erasure-certificate`), failures, 'Erasure certificate', ['certificate_not_found']) : undefined,
    ]);
    return { tenant, sagas: lifecycle?.sagas ?? [], move, counts, quotas, limits, connections, flags: flags?.items ?? [], jobs, grants: grants?.items ?? [], audit: audit?.items ?? [], certificate, leaving, failures };
  };

  /** Runs an action, says how it went, and reads the page again. */
  const act = async (label: string, action: () => Promise<unknown>) => {
    notice.textContent = `${label}…`;
    try {
      await action();
      notice.textContent = `${label}: done.`;
    } catch (error) {
      notice.textContent = error instanceof ApiError ? `${label} failed: ${error.code}: ${error.detail}` : `${label} failed: ${(error as Error).message}`;
    }
    await refresh();
  };

  const impersonate = async (reason: string) => {
    notice.textContent = 'Impersonating (read-only)…';
    try {
      const grant = await api.post<IssuedGrant>(`${base}/impersonations`, { mode: 'read', reason });
      const headers = { 'x-impersonation-grant': grant.grant };
      const [customers, projects] = await Promise.all([
        api.get<Page<{ name: string; email: string }>>('/v1/customers?limit=5', headers),
        api.get<Page<{ name: string }>>('/v1/projects?limit=5', headers),
      ]);
      clear(impersonation);
      impersonation.append(
        section(
          'Read-only view as the tenant',
          facts([['Grant', grant.id], ['Mode', grant.mode], ['Expires', when(grant.expiresAt)]]),
          table('Customers (first 5)', ['Name', 'Email'], customers.items.map((c) => [c.name, c.email])),
          table('Projects (first 5)', ['Name'], projects.items.map((p) => [p.name])),
        ),
      );
      notice.textContent = 'Impersonating (read-only): grant issued and recorded in both audit trails.';
    } catch (error) {
      notice.textContent = error instanceof ApiError ? `Impersonation failed: ${error.code}: ${error.detail}` : `Impersonation failed: ${(error as Error).message}`;
    }
    await refresh();
  };

  const verify = async () => {
    notice.textContent = 'Verifying the audit chain…';
    try {
      lastVerify = await api.post<AuditVerify>(`${base}/audit/verify`);
      notice.textContent = `Audit chain verified: ${lastVerify.ok ? 'intact' : 'BROKEN'} (recorded in the platform trail).`;
    } catch (error) {
      notice.textContent = error instanceof ApiError ? `Verify failed: ${error.code}: ${error.detail}` : `Verify failed: ${(error as Error).message}`;
    }
    await refresh();
  };

  const refresh = async () => {
    if (timer) clearTimeout(timer);
    if (stopped) return;
    let snapshot: Snapshot;
    try {
      snapshot = await read();
    } catch (error) {
      clear(body);
      body.append(el('p', { class: 'error', attrs: { role: 'alert' } }, error instanceof ApiError ? `${error.code}: ${error.detail}` : (error as Error).message));
      return;
    }
    if (stopped) return;
    const focused = document.activeElement instanceof HTMLElement && body.contains(document.activeElement) ? document.activeElement.getAttribute('name') : null;
    clear(body);
    append(body, ...draw(snapshot, { act, impersonate, verify, lastVerify: () => lastVerify, base, id, actionsFor }));
    if (focused) body.querySelector<HTMLElement>(`[name="${focused}"]`)?.focus();
    const busy = snapshot.sagas.some((s) => s.status === 'running' || s.status === 'compensating') || (snapshot.move !== undefined && !MOVE_DONE.has(snapshot.move.phase));
    body.setAttribute('data-busy', String(busy));
    // One more read after the work ends: a saga's end and the tenant's new status are separate
    // writes, and this read may have seen one without the other.
    if (busy || wasBusy) timer = setTimeout(() => void refresh(), waitingOutGrace(snapshot.sagas) ? GRACE_POLL_MS : POLL_MS);
    // What was read through a grant is not left on show once the tenant is leaving.
    if (snapshot.leaving) clear(impersonation);
    wasBusy = busy;
  };

  outlet.append(notice, body, impersonation);
  await refresh();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
};

/** An offboarding saga whose grace step is due more than a poll away (its export done). */
function waitingOutGrace(sagas: Saga[]): boolean {
  const saga = sagas.find((s) => s.kind === 'offboarding' && s.status === 'running');
  const due = saga?.steps.find((step) => step.step === 'grace')?.details.due;
  return typeof due === 'string' && Date.parse(due) - Date.now() > GRACE_POLL_MS;
}

interface Handlers {
  act: (label: string, action: () => Promise<unknown>) => Promise<void>;
  impersonate: (reason: string) => Promise<void>;
  verify: () => Promise<void>;
  lastVerify: () => AuditVerify | undefined;
  base: string;
  id: string;
  actionsFor: (snapshot: Snapshot, h: Handlers) => HTMLElement;
}

function draw(s: Snapshot, h: Handlers): Child[] {
  const t = s.tenant;
  return [
    el('div', { class: 'title-row' }, el('h1', {}, t.name), el('span', { class: `status status-${t.status}`, attrs: { 'data-testid': 'tenant-status' } }, t.status)),
    s.failures.length > 0 ? el('ul', { class: 'error' }, ...s.failures.map((failure) => el('li', {}, failure))) : null,
    section(
      'Placement',
      facts([
        ['Id', el('code', {}, t.id)],
        ['Slug', t.slug],
        ['Tier', t.tier],
        ['Isolation model', el('span', { attrs: { 'data-testid': 'tenant-isolation' } }, t.isolation)],
        ['Cluster', t.cluster],
        ['Region', t.region],
        ['Schema', t.schemaName],
        ['Database', t.databaseName],
        ['Data version', t.dataVersion],
        ['External ref', t.externalRef],
        ['Created', when(t.createdAt)],
        ['Updated', when(t.updatedAt)],
      ]),
    ),
    h.actionsFor(s, h),
    section('Lifecycle', ...(s.sagas.length === 0 ? [el('p', {}, 'No saga.')] : s.sagas.map(sagaView))),
    section('Move', moveView(s.move)),
    section('Usage', s.counts ? requestChart(s.counts) : el('p', {}, 'Request counts unavailable.'), s.counts ? classTable(s.counts) : null),
    section('Quotas', s.quotas ? quotasView(s.quotas) : el('p', {}, t.status === 'deleted' ? 'None: the tenant is erased.' : s.leaving || t.status === 'provisioning' ? 'Not read while the tenant is provisioning or offboarding (its placement is fenced or not ready).' : 'Usage against quotas unavailable.')),
    section('Rate limits', s.limits ? rateLimitsView(s.limits) : el('p', {}, 'Rate limits unavailable.')),
    section('Connections', s.connections ? tenantConnectionsView(s.connections) : el('p', {}, 'Connection counts unavailable.')),
    section('Flags', flagsView(s.flags, h)),
    section('Jobs', jobsView(s.jobs, h)),
    t.status === 'deleted'
      ? section(
          'Erasure certificate',
          el('p', {}, 'The tenant is erased: its audit trail and impersonation grants went with its data.'),
          s.certificate ? facts(Object.entries(s.certificate).filter(([, v]) => typeof v !== 'object' || v === null).map(([k, v]): [string, Child] => [k, String(v)])) : el('p', {}, 'No certificate yet.'),
        )
      : null,
    s.leaving && t.status !== 'deleted' ? section('Impersonation grants and audit trail', el('p', {}, 'Not read while the tenant is offboarding (its erasure may be under way); restore it to see them.')) : null,
    s.leaving ? null : section(
      'Impersonation grants',
      table('Grants', ['Grant', 'Operator', 'Mode', 'Issued', 'Expires', 'Revoked', ''], s.grants.map((g) => [
        g.grantId.slice(0, 8),
        g.operator,
        g.mode,
        when(g.issuedAt),
        when(g.expiresAt),
        when(g.revokedAt),
        g.revokedAt ? '' : button('Revoke', () => h.act('Revoke grant', () => api.delete(`${h.base}/impersonations/${g.grantId}`))),
      ])),
    ),
    s.leaving ? null : section(
      'Audit trail',
      table('First 20 entries', ['Seq', 'At', 'Action', 'Outcome', 'Actor'], s.audit.map((a) => [a.seq ?? 'pending', when(a.at), a.action, a.outcome, String(a.actor.kind ?? '')])),
      el('a', { attrs: { href: `#/audit?tenant=${encodeURIComponent(t.id)}` } }, 'Search this trail'),
      el('div', { class: 'actions' }, el('button', { class: 'primary', attrs: { type: 'button', name: 'verify-chain' }, on: { click: () => void h.verify() } }, 'Verify chain')),
      h.lastVerify() ? auditVerifyView(h.lastVerify() as AuditVerify) : null,
    ),
  ];
}

function actions(s: Snapshot, h: Handlers): HTMLElement {
  const t = s.tenant;
  if (t.status === 'deleted') return section('Actions', el('p', {}, 'None: the tenant is erased.'));
  const lastSaga = s.sagas[s.sagas.length - 1];
  const offboarding = lastSaga?.kind === 'offboarding' && lastSaga.status === 'running';
  const to = select('move-to', MODELS.filter((m) => m !== t.isolation).map((m): [string, string] => [m, m]));
  const cluster = input('move-cluster', '', { placeholder: t.cluster });
  const grace = input('grace-days', '30', { type: 'number', min: '0', max: '365' });
  const reason = input('impersonation-reason', '', { minlength: '3', maxlength: '500', placeholder: 'Ticket 4711: orders missing' });
  const policy = s.jobs?.policy ?? {};
  const weight = input('job-weight', String(policy.weight ?? ''), { type: 'number', min: '0.01', max: '1000', step: '0.01' });
  const concurrency = input('job-max-concurrency', String(policy.maxConcurrency ?? ''), { type: 'number', min: '1', max: '10000' });
  const backlog = input('job-max-backlog', String(policy.maxBacklog ?? ''), { type: 'number', min: '0', max: '10000000' });
  const jobsPath = `/v1/admin/jobs/tenants/${encodeURIComponent(h.id)}/policy`;
  const setPolicy = () => {
    const body: Record<string, number> = {};
    if (weight.value !== '') body.weight = Number(weight.value);
    if (concurrency.value !== '') body.maxConcurrency = Number(concurrency.value);
    if (backlog.value !== '') body.maxBacklog = Number(backlog.value);
    return h.act('Set job policy', () => api.put(jobsPath, body));
  };
  return section(
    'Actions',
    el(
      'div',
      { class: 'actions' },
      t.status === 'active' ? button('Suspend', () => h.act('Suspend', () => api.post(`${h.base}/suspend`)), 'danger') : null,
      t.status === 'suspended' && !offboarding ? button('Reactivate', () => h.act('Reactivate', () => api.post(`${h.base}/reactivate`)), 'primary') : null,
    ),
    el(
      'form',
      { class: 'inline', attrs: { 'aria-label': 'Move' }, on: { submit: (e) => { e.preventDefault(); void h.act('Move', () => api.post(`${h.base}/move`, { to: to.value, ...(cluster.value.trim() ? { cluster: cluster.value.trim() } : {}) })); } } },
      field('Move to model', to),
      field('Cluster', cluster),
      el('button', { attrs: { type: 'submit' } }, 'Move'),
    ),
    el(
      'form',
      { class: 'inline', attrs: { 'aria-label': 'Impersonate' }, on: { submit: (e) => { e.preventDefault(); void h.impersonate(reason.value); } } },
      field('Reason (recorded, shown to the tenant)', reason),
      el('button', { attrs: { type: 'submit' } }, 'Impersonate read-only'),
    ),
    el(
      'form',
      { class: 'inline', attrs: { 'aria-label': 'Job policy' }, on: { submit: (e) => { e.preventDefault(); void setPolicy(); } } },
      field('Job weight', weight),
      field('Max concurrent jobs', concurrency),
      field('Max backlog', backlog),
      el('button', { attrs: { type: 'submit' } }, 'Set job policy'),
      button('Reset to tier defaults', () => h.act('Reset job policy', () => api.delete(jobsPath))),
    ),
    offboarding
      ? el('div', { class: 'actions' }, button('Restore', () => h.act('Restore', () => api.post(`${h.base}/restore`)), 'primary'))
      : t.status === 'active' || t.status === 'suspended'
        ? el(
            'form',
            { class: 'inline', attrs: { 'aria-label': 'Offboard' }, on: { submit: (e) => { e.preventDefault(); void h.act('Offboard', () => api.post(`${h.base}/offboard`, { graceDays: Number(grace.value) })); } } },
            field('Grace days', grace),
            el('button', { class: 'danger', attrs: { type: 'submit' } }, 'Offboard'),
          )
        : null,
  );
}

function sagaView(saga: Saga): HTMLElement {
  return el(
    'div',
    { class: 'saga', attrs: { 'data-kind': saga.kind, 'data-status': saga.status } },
    el('h3', {}, `${saga.kind}: `, el('span', { class: `status status-${saga.status}` }, saga.status)),
    facts([['Started by', saga.startedBy], ['Started', when(saga.createdAt)], ['Finished', when(saga.finishedAt)], ['Reason', saga.reason]]),
    table(`${saga.kind} steps`, ['Step', 'Status', 'Attempts', 'Failures', 'Last error', 'Finished'], saga.steps.map((step) => [
      step.step,
      el('span', { class: `status status-${step.status}` }, step.status),
      step.attempts,
      step.failures,
      step.lastError ?? '',
      when(step.finishedAt),
    ])),
  );
}

function moveView(move: Move | undefined): HTMLElement {
  if (!move) return el('p', {}, 'Never moved.');
  const placement = (p: Move['source']) => `${p.isolation} on ${p.cluster}`;
  const progress = Object.entries(move.progress).filter(([, value]) => typeof value !== 'object' || value === null);
  return el(
    'div',
    { attrs: { 'data-testid': 'move', 'data-phase': move.phase } },
    facts([
      ['Phase', el('span', { class: `status status-${move.phase}` }, move.phase)],
      ['From', placement(move.source)],
      ['To', placement(move.target)],
      ['Requested', when(move.createdAt)],
      ['Switched', when(move.switchedAt)],
      ['Finished', when(move.finishedAt)],
      ['Error', move.error],
      ...progress.map(([key, value]): [string, Child] => [key, String(value)]),
    ]),
  );
}

function classTable(counts: RequestCounts): HTMLElement {
  const classes = ['read', 'write', 'export', 'ingest'] as const;
  return table('Requests by route class (last 60 minutes)', ['Class', 'Admitted', 'Refused'], classes.map((c) => [c, counts.admitted[c], counts.refused[c]]));
}

function flagsView(flags: Flag[], h: Handlers): HTMLElement {
  return table('Feature flags for this tenant', ['Flag', 'Default', 'Override', ''], flags.map((flag) => {
    const override = flag.overrides.find((o) => o.tenantId === h.id);
    const path = `/v1/admin/flags/${encodeURIComponent(flag.id)}/tenants/${encodeURIComponent(h.id)}`;
    return [
      flag.key,
      String(flag.defaultValue),
      override ? String(override.value) : 'none',
      el(
        'div',
        { class: 'actions' },
        button('On', () => h.act(`Flag ${flag.key} on`, () => api.put(path, { value: true }))),
        button('Off', () => h.act(`Flag ${flag.key} off`, () => api.put(path, { value: false }))),
        override ? button('Clear', () => h.act(`Flag ${flag.key} cleared`, () => api.delete(path))) : null,
      ),
    ];
  }));
}

function jobsView(jobs: TenantJobs | undefined, h: Handlers): HTMLElement {
  if (!jobs) return el('p', {}, 'Job counts unavailable.');
  const path = `/v1/admin/jobs/tenants/${encodeURIComponent(h.id)}`;
  return el(
    'div',
    {},
    facts([
      ['Backlog', jobs.backlog],
      ['In flight', jobs.inFlight],
      ['Oldest wait', `${Math.round(jobs.oldestWaitMs / 1000)} s`],
      ['Paused', String(jobs.paused)],
      ['Held (suspended, or its database unreachable)', String(jobs.held)],
      ['Parked', String(jobs.parked)],
      ...Object.entries(jobs.policy).map(([key, value]): [string, Child] => [`Policy ${key}`, String(value)]),
    ]),
    el('div', { class: 'actions' }, jobs.paused ? button('Resume jobs', () => h.act('Resume jobs', () => api.post(`${path}/resume`))) : button('Pause jobs', () => h.act('Pause jobs', () => api.post(`${path}/pause`)))),
  );
}

