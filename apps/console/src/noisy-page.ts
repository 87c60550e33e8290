import { api } from './api.js';
import { el, section, table, when } from './elements.js';
import { findingsChart, NoisyFinding } from './noisy-chart.js';
import { PageRender } from './route.js';

interface NoisyTenant {
  tenantId: string;
  since: string;
  lastMinute: string;
  findings: NoisyFinding[];
}

/** Tenants flagged noisy now (above NOISY_RATIO times the median), charted against the median, and the flags and clears before. */
export const noisyPage: PageRender = async (outlet) => {
  const [current, history] = await Promise.all([
    api.get<{ items: NoisyTenant[] }>('/v1/admin/noisy-tenants'),
    api.get<{ items: Array<{ tenantId: string; event: string; minute: string; findings: NoisyFinding[] }> }>('/v1/admin/noisy-tenants/history?limit=50'),
  ]);
  const describe = (findings: NoisyFinding[]) => findings.map((f) => `${f.measure} ${f.value} / median ${f.median}`).join('; ');
  outlet.append(
    el('h1', {}, 'Noisy neighbours'),
    section(
      'Flagged now',
      current.items.length === 0
        ? el('p', { class: 'empty' }, 'No tenant is above the median by NOISY_RATIO now.')
        : el(
            'div',
            {},
            ...current.items.map((t) =>
              el('div', { class: 'noisy' }, el('h3', {}, el('a', { attrs: { href: `#/tenants/${t.tenantId}` } }, t.tenantId), ` since ${when(t.since)}, last ${when(t.lastMinute)}`), findingsChart(t.findings)),
            ),
          ),
    ),
    section(
      'History',
      table('Flags and clears', ['Minute', 'Tenant', 'Event', 'Findings'], history.items.map((e) => [
        when(e.minute),
        el('a', { attrs: { href: `#/tenants/${e.tenantId}` } }, e.tenantId.slice(0, 8)),
        e.event,
        describe(e.findings),
      ])),
    ),
  );
};
