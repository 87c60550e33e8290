/** A database cluster tenants can be placed on, as configured. */
export interface ClusterSettings {
  key: string;
  region: string;
  /** Runtime role on the cluster's main database (pool and schema tenants). */
  url: string;
  /** Owner role on the same database: provisioning and migrations. */
  ownerUrl: string;
  /**
   * A superuser of the cluster (any database): `setup` creates the roles and the shared database
   * with it, and offboarding verifies an erasure through it (RLS cannot hide a leftover row from
   * it). Optional for extra clusters: without it their roles and database are the operator's to
   * create, and offboarding a tenant placed there fails at verification, saying so.
   */
  adminUrl?: string;
}

const KEY = /^[a-z0-9_-]{1,32}$/;
const REGION = /^[a-z0-9-]{2,32}$/;
const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

/**
 * Cluster `main` (DATABASE_URL, DATABASE_OWNER_URL, REGION) plus the extra clusters of
 * DATABASE_CLUSTERS (`{"<key>": {"region", "url", "ownerUrl", "adminUrl"?}}`). Returns the problems instead of
 * throwing, so the configuration reports them with every other bad setting.
 */
export function parseClusters(main: ClusterSettings, json: string | undefined): { clusters: ClusterSettings[]; problems: string[] } {
  const clusters = [main];
  const problems: string[] = [];
  if (!json) return { clusters, problems };
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return { clusters, problems: ['DATABASE_CLUSTERS: must be JSON {"<key>": {"region": "...", "url": "...", "ownerUrl": "..."}}'] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { clusters, problems: ['DATABASE_CLUSTERS: must be a JSON object keyed by cluster'] };
  }
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    const cluster: ClusterSettings = { key, region: String(entry.region ?? ''), url: String(entry.url ?? ''), ownerUrl: String(entry.ownerUrl ?? '') };
    if (entry.adminUrl !== undefined) cluster.adminUrl = String(entry.adminUrl);
    if (key === 'main') problems.push('DATABASE_CLUSTERS: may not redefine the main cluster');
    else if (!KEY.test(key) || !REGION.test(cluster.region) || !POSTGRES_URL.test(cluster.url) || !POSTGRES_URL.test(cluster.ownerUrl)) {
      problems.push(`DATABASE_CLUSTERS: cluster ${key} needs a key (a-z, 0-9, _ or -), a region and postgres:// url and ownerUrl`);
    } else if (cluster.adminUrl !== undefined && !POSTGRES_URL.test(cluster.adminUrl)) {
      problems.push(`DATABASE_CLUSTERS: cluster ${key}: adminUrl must be a postgres:// url`);
    } else clusters.push(cluster);
  }
  return { clusters, problems };
}
