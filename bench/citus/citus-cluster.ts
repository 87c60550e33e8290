import { BootstrapUrls, bootstrapDatabase, withPg } from '@bulkhead/database';

/** A Citus cluster to test or measure against: the coordinator's superuser URL and its workers. */
export interface CitusCluster {
  adminUrl: string;
  workers: string[];
}

/**
 * The Citus cluster named by BULKHEAD_TEST_CITUS_URL and BULKHEAD_TEST_CITUS_WORKERS (see
 * docs/citus.md), which the test suites and the `citus` bench scenario use when it is set.
 */
export function citusClusterFromEnv(): CitusCluster | undefined {
  const adminUrl = process.env.BULKHEAD_TEST_CITUS_URL;
  if (!adminUrl) return undefined;
  const workers = (process.env.BULKHEAD_TEST_CITUS_WORKERS ?? '').split(',').map((worker) => worker.trim()).filter(Boolean);
  if (!workers.length) throw new Error('BULKHEAD_TEST_CITUS_WORKERS must list the workers (host:port,...) of BULKHEAD_TEST_CITUS_URL');
  for (const worker of workers) if (!/^[A-Za-z0-9.-]+:\d+$/.test(worker)) throw new Error(`Citus worker "${worker}" is not host:port`);
  return { adminUrl, workers };
}

function onNode(url: string, node: string, database?: string): string {
  const parsed = new URL(url);
  parsed.host = node;
  if (database) parsed.pathname = '/' + database;
  return parsed.toString();
}

/**
 * A fresh test database on every node of the cluster, with the citus extension and the workers
 * registered, then the ordinary bootstrap, which on a coordinator also gives the runtime role
 * citus.propagate_set_commands = 'local'. Roles and databases are made per node because Citus
 * propagates neither from a database without the extension.
 */
export async function recreateCitusDatabase(cluster: CitusCluster, urls: BootstrapUrls): Promise<void> {
  const database = new URL(urls.ownerUrl).pathname.slice(1);
  const coordinator = new URL(cluster.adminUrl).host;
  await bootstrapDatabase(urls, { recreate: true });
  for (const worker of cluster.workers) {
    const on = (url: string) => onNode(url, worker);
    await bootstrapDatabase({ adminUrl: on(urls.adminUrl), ownerUrl: on(urls.ownerUrl), runtimeUrl: on(urls.runtimeUrl) }, { recreate: true });
    await withPg(onNode(urls.adminUrl, worker, database), 'bulkhead-test-citus', (admin) => admin.query('CREATE EXTENSION citus'));
  }
  await withPg(onNode(urls.adminUrl, coordinator, database), 'bulkhead-test-citus', async (admin) => {
    await admin.query('CREATE EXTENSION citus');
    const [host, port] = coordinator.split(':');
    await admin.query('SELECT citus_set_coordinator_host($1, $2)', [host, Number(port || 5432)]);
    for (const worker of cluster.workers) {
      const [workerHost, workerPort] = worker.split(':');
      await admin.query('SELECT citus_add_node($1, $2)', [workerHost, Number(workerPort)]);
    }
  });
  await bootstrapDatabase(urls);
}
