import type { Server } from 'node:http';
import { call } from './http';

export interface CustomerModel {
  email: string;
  name: string;
}

/**
 * A tenant's writes during a move, as a client sees them: creates and renames of customers, one
 * at a time, each recorded in the model only once acknowledged. Every failure is kept.
 */
export class TenantWriter {
  readonly model = new Map<string, CustomerModel>();
  readonly failures: string[] = [];
  writes = 0;
  private stopped = false;
  private running?: Promise<void>;

  constructor(
    private readonly server: Server,
    private readonly token: string,
    private readonly prefix: string,
  ) {}

  async seed(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.create();
  }

  /**
   * Writes until `stop`, `pauseMs` apart (0: back to back, as fast as the API answers); may be
   * started again after a stop.
   */
  start(pauseMs = 0): void {
    this.stopped = false;
    this.running = (async () => {
      let step = 0;
      while (!this.stopped) {
        const ids = [...this.model.keys()];
        if (step % 3 === 2 && ids.length) await this.rename(ids[(step * 7) % ids.length], `renamed-${step}`);
        else await this.create();
        step++;
        if (pauseMs > 0 && !this.stopped) await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  async create(): Promise<void> {
    const email = `${this.prefix}-${this.writes}@moves.test`;
    const name = `n-${this.writes}`;
    this.writes++;
    const response = await call(this.server, 'post', '/v1/customers', this.token, { email, name });
    if (response.status === 201) this.model.set(response.body.id, { email, name });
    else this.failures.push(`POST ${response.status} ${response.text}`);
  }

  async rename(id: string, name: string): Promise<void> {
    this.writes++;
    const response = await call(this.server, 'patch', `/v1/customers/${id}`, this.token, { name });
    if (response.status === 200) this.model.get(id)!.name = name;
    else this.failures.push(`PATCH ${response.status} ${response.text}`);
  }

  /** Every customer the API shows the tenant, by id. */
  async read(): Promise<Map<string, CustomerModel>> {
    const seen = new Map<string, CustomerModel>();
    let after: string | undefined;
    for (;;) {
      const response = await call(this.server, 'get', `/v1/customers?limit=100${after ? `&after=${after}` : ''}`, this.token);
      if (response.status !== 200) throw new Error(`list failed: ${response.status} ${response.text}`);
      for (const row of response.body.items) seen.set(row.id, { email: row.email, name: row.name });
      if (!response.body.next) return seen;
      after = response.body.next;
    }
  }
}
