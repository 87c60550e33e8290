import { BulkheadConfig } from '@bulkhead/config';
import { withPg } from '@bulkhead/database';
import { Injectable } from '@nestjs/common';
import { NoisyFinding } from './noisy-detection';
import { NoisyCursorUnknownProblem } from './noisy.errors';

export interface NoisyEvent {
  readonly id: string;
  readonly tenantId: string;
  readonly event: 'flagged' | 'cleared';
  readonly minute: Date;
  readonly findings: readonly NoisyFinding[];
  readonly createdAt: Date;
}

/** Past findings in the control catalogue (`noisy_tenant_events`), for operators. */
@Injectable()
export class NoisyHistory {
  constructor(private readonly config: BulkheadConfig) {}

  /** Records a finding once: a detector run repeated for the same minute writes nothing twice. */
  async record(tenantId: string, event: 'flagged' | 'cleared', minute: number, findings: readonly NoisyFinding[]): Promise<void> {
    await withPg(this.config.DATABASE_URL, 'bulkhead-noisy', (client) =>
      client.query(
        `INSERT INTO noisy_tenant_events (tenant, event, minute, findings) VALUES ($1, $2, to_timestamp($3), $4)
         ON CONFLICT (tenant, minute, event) DO NOTHING`,
        [tenantId, event, minute * 60, JSON.stringify(findings.map(finite))],
      ),
    );
  }

  /** How many findings name the tenant (offboarding counts them before and after erasure). */
  async countOf(tenantId: string): Promise<number> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-noisy', async (client) =>
      Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM noisy_tenant_events WHERE tenant = $1', [tenantId])).rows[0].n),
    );
  }

  /** Deletes the tenant's findings; answers how many. */
  async eraseOf(tenantId: string): Promise<number> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-noisy', async (client) => (await client.query('DELETE FROM noisy_tenant_events WHERE tenant = $1', [tenantId])).rowCount ?? 0);
  }

  /** Newest first; `before` is the previous page's last id (`NoisyCursorUnknownProblem` when no event has it). */
  async list(limit: number, before?: string): Promise<NoisyEvent[]> {
    return withPg(this.config.DATABASE_URL, 'bulkhead-noisy', async (client) => {
      if (before === undefined) {
        const rows = await client.query<EventRow>('SELECT id, tenant, event, minute, findings, created_at FROM noisy_tenant_events ORDER BY created_at DESC, id DESC LIMIT $1', [limit]);
        return rows.rows.map(eventOf);
      }
      // One statement: the cursor's row and the page after it are read in one snapshot, so an
      // erasure cannot slip between them. No row at all: no such cursor; one row of nulls: the end.
      const rows = await client.query<EventRow>(
        `SELECT e.id, e.tenant, e.event, e.minute, e.findings, e.created_at
           FROM noisy_tenant_events c
           LEFT JOIN LATERAL (
             SELECT * FROM noisy_tenant_events e WHERE (e.created_at, e.id) < (c.created_at, c.id) ORDER BY e.created_at DESC, e.id DESC LIMIT $1
           ) e ON true
          WHERE c.id = $2
          ORDER BY e.created_at DESC, e.id DESC`,
        [limit, before],
      );
      if (rows.rows.length === 0) throw new NoisyCursorUnknownProblem();
      return rows.rows.filter((row) => row.id !== null).map(eventOf);
    });
  }
}

interface EventRow {
  id: string | null;
  tenant: string;
  event: 'flagged' | 'cleared';
  minute: Date;
  findings: NoisyFinding[];
  created_at: Date;
}

function eventOf(row: EventRow): NoisyEvent {
  return { id: row.id as string, tenantId: row.tenant, event: row.event, minute: row.minute, findings: row.findings, createdAt: row.created_at };
}

/** JSON has no Infinity: a ratio against a zero median is stored as null. */
function finite(finding: NoisyFinding): Record<string, unknown> {
  return { ...finding, ratio: Number.isFinite(finding.ratio) ? finding.ratio : null };
}
