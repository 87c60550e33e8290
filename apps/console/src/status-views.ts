import { api, ApiError } from './api.js';
import type { AuditVerify, FleetConnections, TenantConnections, TenantQuotas, TenantRateLimits } from './api-types.js';
import { button, Child, el, facts, table, when } from './elements.js';

/**
 * The operator status views shared by the tenant, fleet and audit pages: usage against quotas,
 * rate limits, connection counts and audit verification. Every value is set as text.
 */

const STATE_LABEL: Record<TenantQuotas['meters'][number]['state'], string> = {
  no_quota: 'no quota',
  ok: 'ok',
  warning: 'warning (80%+)',
  blocked: 'blocked',
  over: 'over quota',
};

export function quotasView(quotas: TenantQuotas): HTMLElement {
  return el(
    'div',
    { attrs: { 'data-testid': 'quotas' } },
    table(`Usage this period against the ${quotas.tier} plan (read ${when(quotas.at)})`, ['Meter', 'Period', 'Used', 'Quota', 'Share used', 'State', 'Resets'], quotas.meters.map((m) => [
      m.meter,
      `${m.per} from ${when(m.periodStart)}`,
      `${m.used} ${m.unit}`,
      m.quota === null ? '—' : String(m.quota),
      m.share === null ? '—' : `${Math.round(m.share * 1000) / 10}%`,
      el('span', { class: `status quota-${m.state}`, attrs: { 'data-meter': m.meter, 'data-state': m.state } }, STATE_LABEL[m.state]),
      when(m.resetsAt),
    ])),
  );
}

export function rateLimitsView(limits: TenantRateLimits): HTMLElement {
  const live = (value: number | null): Child => (value === null ? 'unavailable' : value);
  return el(
    'div',
    { attrs: { 'data-testid': 'rate-limits' } },
    facts([
      ['Tier', limits.tier],
      ['Throttled as noisy', limits.throttleFactor === null ? 'no' : `yes: limits × ${limits.throttleFactor}`],
      ['Decided', limits.inMemory ? 'in memory by each instance (Redis unreachable): the outage limits apply' : 'in Redis, shared by every instance'],
    ]),
    table(`Requests per ${limits.windowSeconds} s by route class`, ['Class', 'Tier limit', 'Limit now', 'Per instance in an outage', 'Left now', 'Whole again in', 'Admitted this minute', 'Refused this minute'], limits.classes.map((c) => [
      c.routeClass,
      c.tierLimit,
      c.limit,
      c.outageLimit,
      live(c.remaining),
      c.resetSeconds === null ? 'unavailable' : `${c.resetSeconds} s`,
      live(c.admittedThisMinute),
      live(c.refusedThisMinute),
    ])),
  );
}

const INSTANCE_NOTE = 'Counts of the API instance that answered; every instance has its own pools and gate.';

export function tenantConnectionsView(connections: TenantConnections): HTMLElement {
  const g = connections.gate;
  const p = connections.pool;
  return el(
    'div',
    { attrs: { 'data-testid': 'connections' } },
    el('p', { class: 'empty' }, `${INSTANCE_NOTE} Instance: `, el('code', {}, connections.instance.id)),
    facts([
      ['Pool', el('code', {}, g.pool)],
      ['In use', el('span', { attrs: { 'data-testid': 'connections-in-use' } }, String(g.inUse))],
      ['Waiting', g.waiting],
      ['Limit now', `${g.limit} of ${g.capacity}`],
      ['Cap while others wait', g.capWhileOthersWait],
      ['Queue limit', g.maxQueue],
      ['Pool in use (all tenants)', g.poolInUse],
      ['Driver pool', p ? `${p.total} open, ${p.idle} idle, ${p.waiting} waiting (max ${p.max})` : 'not open on this instance'],
    ]),
  );
}

export function fleetConnectionsView(connections: FleetConnections): HTMLElement {
  const g = connections.gate;
  return el(
    'div',
    { attrs: { 'data-testid': 'fleet-connections' } },
    el('p', { class: 'empty' }, `${INSTANCE_NOTE} Instance: `, el('code', {}, connections.instance.id)),
    table('Shared pools by cluster', ['Cluster', 'Open', 'Idle', 'Waiting', 'Max'], connections.shared.map((s) => [s.cluster, s.pool.total, s.pool.idle, s.pool.waiting, s.pool.max])),
    facts([
      ['Silo pools open', connections.silos.open],
      ['Silo connections', `${connections.silos.connections} of ${connections.silos.maxConnections} (at most ${connections.silos.poolMax} per silo)`],
      ['Gate: in use', `${g.active.shared} shared, ${g.active.silo} silo`],
      ['Gate: waiting', `${g.waiting.shared} shared, ${g.waiting.silo} silo`],
      ['Gate: tenants', g.tenants],
      ['Gate: held back', `${g.heldBack.shared} shared, ${g.heldBack.silo} silo`],
      ['Gate: shed since start', `${g.shed.excess} excess, ${g.shed.timeout} timeout`],
    ]),
  );
}

const CHECKPOINTS: Record<AuditVerify['checkpoints'], string> = {
  read: 'compared with the newest signed checkpoint',
  absent: 'checkpoint file not on this API host: chain checked without it',
  not_configured: 'no checkpoint file configured: chain checked without it',
};

export function auditVerifyView(result: AuditVerify): HTMLElement {
  return el(
    'div',
    { class: result.ok ? 'verify verify-ok' : 'verify verify-bad', attrs: { 'data-testid': 'audit-verify', 'data-ok': String(result.ok) } },
    el('p', {}, el('strong', {}, result.ok ? 'Chain intact.' : 'Chain BROKEN.'), ` Verified ${when(result.verifiedAt)} in ${result.durationMs} ms; ${CHECKPOINTS[result.checkpoints]}.`, result.invalidCheckpoints ? ` ${result.invalidCheckpoints} checkpoint line(s) with a bad signature.` : null),
    table('Chains checked', ['Chain', 'Placement', 'Entries', 'Last seq', 'Result', 'First bad seq', 'Problem', 'Checkpoint'], result.chains.map((c) => [
      el('code', {}, c.tenantId),
      c.placement,
      c.entries,
      c.lastSeq,
      el('span', { class: c.ok ? 'status status-succeeded' : 'status status-failed' }, c.ok ? 'ok' : 'bad'),
      c.firstBadSeq ?? '—',
      c.problem ?? '—',
      c.checkpoint ? `seq ${c.checkpoint.seq}: ${c.checkpoint.matches ? 'matches' : 'MISSING'}` : '—',
    ])),
  );
}

/**
 * A "Verify chain" button and the place its verdict goes: POSTs to `path` and shows the result
 * (or why it could not run) in a polite live region.
 */
export function auditVerifyControl(path: string, label: string, onResult: (result: AuditVerify) => void = () => undefined): HTMLElement {
  const result = el('div', { attrs: { role: 'status', 'aria-live': 'polite' } });
  const run = async () => {
    result.replaceChildren(el('p', {}, 'Verifying…'));
    try {
      const verdict = await api.post<AuditVerify>(path);
      result.replaceChildren(auditVerifyView(verdict));
      onResult(verdict);
    } catch (error) {
      result.replaceChildren(el('p', { class: 'error' }, error instanceof ApiError ? `Verify failed: ${error.code}: ${error.detail}` : `Verify failed: ${(error as Error).message}`));
    }
  };
  return el('div', { class: 'verify-control' }, el('div', { class: 'actions' }, button(label, run, 'primary')), result);
}
