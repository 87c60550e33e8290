import { api } from './api.js';
import { el, section, table, when } from './elements.js';
import { PageRender } from './route.js';

interface Finding {
  [key: string]: unknown;
}

/** Tenants flagged noisy now (above NOISY_RATIO times the median) and the flags and clears before. */
export const noisyPage: PageRender = async (outlet) => {
  const [current, history] = await Promise.all([
    api.get<{ items: Array<Record<string, unknown>> }>('/v1/admin/noisy-tenants'),
    api.get<{ items: Array<{ tenantId: string; event: string; minute: string; findings: Finding[] }> }>('/v1/admin/noisy-tenants/history?limit=50'),
  ]);
  const describe = (findings: Finding[]) => findings.map((f) => Object.entries(f).map(([k, v]) => `${k} ${String(v)}`).join(', ')).join('; ');
  outlet.append(
    el('h1', {}, 'Noisy neighbours'),
    section(
      'Flagged now',
      table('Tenants above the median', ['Tenant', 'Details'], current.items.map((item) => [
        el('a', { attrs: { href: `#/tenants/${String(item.tenantId)}` } }, String(item.slug ?? item.tenantId)),
        describe(Array.isArray(item.findings) ? (item.findings as Finding[]) : [Object.fromEntries(Object.entries(item).filter(([k]) => k !== 'tenantId' && k !== 'findings'))]),
      ])),
    ),
    section(
      'History',
      table('Flags and clears, newest first', ['Minute', 'Tenant', 'Event', 'Findings'], history.items.map((e) => [
        when(e.minute),
        el('a', { attrs: { href: `#/tenants/${e.tenantId}` } }, e.tenantId.slice(0, 8)),
        e.event,
        describe(e.findings),
      ])),
    ),
  );
};
