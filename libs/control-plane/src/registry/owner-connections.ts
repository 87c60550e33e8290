import { connectPg } from '@bulkhead/database';
import { Client } from 'pg';

/**
 * Owner connections kept open across many provisionings, one per cluster: a fleet lane migrates
 * a thousand schemas over a handful of connections instead of one each.
 */
export class OwnerConnections {
  private readonly clients = new Map<string, Promise<Client>>();

  get(cluster: { key: string; ownerUrl: string }): Promise<Client> {
    let client = this.clients.get(cluster.key);
    if (!client) {
      client = connectPg(cluster.ownerUrl, 'bulkhead-fleet-migrate');
      this.clients.set(cluster.key, client);
      client.catch(() => this.clients.delete(cluster.key));
    }
    return client;
  }

  /** After a failure the session may be in a bad state: the next use starts afresh. */
  async reset(clusterKey: string): Promise<void> {
    const client = this.clients.get(clusterKey);
    this.clients.delete(clusterKey);
    await client?.then((c) => c.end()).catch(() => undefined);
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.keys()].map((key) => this.reset(key)));
  }
}
