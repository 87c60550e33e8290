import { BulkheadConfig } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AuditTrail } from './audit-trail';
import { QueryAuditReport, runQueryAudit } from './query-audit';

const RECORDED_FINDINGS = 20;

/**
 * The scheduled query audit (every AUDIT_QUERY_AUDIT_INTERVAL_MS, in the worker): runs
 * `runQueryAudit` on the cluster database as the admin role, records the verdict in the platform
 * chain (`query_audit.run`: clean, flagged or unavailable, with the first findings), then resets
 * `pg_stat_statements`, so each run judges the window since the previous one. Without
 * pg_stat_statements preloaded it records `unavailable` and carries on.
 */
@Injectable()
export class QueryAuditor {
  constructor(
    private readonly config: BulkheadConfig,
    private readonly trail: AuditTrail,
  ) {}

  /** What the statements since the last reset show; changes nothing (the doctor uses it). */
  audit(): Promise<QueryAuditReport> {
    return withPg(this.databaseUrl(), 'bulkhead-query-audit', (client) => runQueryAudit(client));
  }

  /** One scheduled run: audit, record the verdict, start a new window. */
  async runScheduled(): Promise<QueryAuditReport> {
    const report = await withPg(this.databaseUrl(), 'bulkhead-query-audit', async (client) => {
      const found = await runQueryAudit(client);
      if (!found.available && found.reason?.includes('not installed')) {
        await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        return runQueryAudit(client);
      }
      return found;
    });
    await this.trail.recordPlatform([
      {
        action: 'query_audit.run',
        outcome: !report.available ? 'unavailable' : report.findings.length ? 'flagged' : 'clean',
        actor: { kind: 'system' },
        details: {
          statements: report.statements,
          findings: report.findings.length,
          reason: report.reason,
          first: report.findings.slice(0, RECORDED_FINDINGS).map((f) => ({ rule: f.rule, role: f.role, queryId: f.queryId, tables: f.tables, query: f.query })),
        },
      },
    ]);
    if (report.available) await withPg(this.databaseUrl(), 'bulkhead-query-audit', (client) => client.query('SELECT pg_stat_statements_reset()'));
    return report;
  }

  private databaseUrl(): string {
    return withDatabase(this.config.DATABASE_ADMIN_URL, parsePgUrl(this.config.DATABASE_URL).database);
  }
}

/** Runs `QueryAuditor.runScheduled` every AUDIT_QUERY_AUDIT_INTERVAL_MS; provided by the worker only. */
@Injectable()
export class QueryAuditSchedule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('QueryAuditSchedule');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly auditor: QueryAuditor,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.AUDIT_QUERY_AUDIT_INTERVAL_MS === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.auditor
        .runScheduled()
        .catch((error: unknown) => this.logger.error({ err: error }, 'query audit failed'))
        .finally(() => (this.running = undefined));
    }, this.config.AUDIT_QUERY_AUDIT_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
