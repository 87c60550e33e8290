import { api } from './api.js';
import type { Fleet, FleetConnections } from './api-types.js';
import { el, facts, section, table } from './elements.js';
import { PageRender } from './route.js';
import { fleetConnectionsView } from './status-views.js';

/** Migration state across schema and silo placements, the placements behind, the warm pool, and this API instance's database connections. */
export const fleetPage: PageRender = async (outlet) => {
  const [fleet, connections] = await Promise.all([api.get<Fleet>('/v1/admin/fleet'), api.get<FleetConnections>('/v1/admin/connections')]);
  const behindTotal = fleet.placements.reduce((sum, group) => sum + group.behind, 0);
  outlet.append(
    el('h1', {}, 'Fleet'),
    section(
      'Migration state',
      facts([
        ['Current data version', fleet.dataVersion],
        ['Placements behind', behindTotal],
      ]),
      table('Schema and silo placements by cluster', ['Cluster', 'Model', 'At the current version', 'Behind'], fleet.placements.map((g) => [g.cluster, g.model, g.current, g.behind])),
      el('p', {}, 'Pool tenants share the platform tables, migrated with the platform; ', el('code', {}, 'npm run bulkhead -- migrate'), ' brings placements behind up to date.'),
    ),
    section(
      'Placements behind',
      table(
        `Lowest version first${behindTotal > fleet.behind.length ? `, ${fleet.behind.length} of ${behindTotal}` : ''}`,
        ['Tenant', 'Cluster', 'Model', 'Status', 'Data version'],
        fleet.behind.map((t) => [el('a', { attrs: { href: `#/tenants/${t.id}` } }, t.slug), t.cluster, t.model, el('span', { class: `status status-${t.status}` }, t.status), t.dataVersion]),
      ),
    ),
    section(
      'Warm pool',
      table('Warm storage by cluster, model, status and data version', ['Cluster', 'Model', 'Status', 'Data version', 'Count'], fleet.warmPool.map((w) => [w.cluster, w.model, w.status, w.dataVersion, w.count])),
    ),
    section('Connections', fleetConnectionsView(connections)),
  );
};
