import { BulkheadConfig } from '@bulkhead/config';
import { TenantRecord } from '@bulkhead/control-plane';
import { Injectable } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { AuditKeys } from './audit-key-file';
import { AuditVerifyBusyProblem } from './audit.errors';
import { PLATFORM_TRAIL_ID, AuditTrail } from './audit-trail';
import { AuditVerifier } from './audit-verifier';
import { AuditVerifyView } from './audit-verify.dto';
import { ChainReport, TrustedHead } from './chain-verifier';
import { readCheckpoints } from './checkpoint';

/**
 * `bulkhead audit verify` for one chain, on an operator's request: the same `AuditVerifier`, the
 * same signed checkpoints (AUDIT_CHECKPOINT_FILE, when this host has it), bounded for a request:
 * one chain per call, at most AUDIT_VERIFY_HTTP_MAX_ENTRIES long, and one verification at a time
 * per process (each holds four owner connections, outside the pools' budget, for its length). The
 * verdict is recorded in the platform chain (`audit.verify`, outcome `intact` or `broken`) before
 * it is answered, besides the record every operator request gets.
 */
@Injectable()
export class AuditVerifyRunner {
  private running = false;

  constructor(
    private readonly config: BulkheadConfig,
    private readonly verifier: AuditVerifier,
    private readonly keys: AuditKeys,
    private readonly trail: AuditTrail,
  ) {}

  tenant(tenant: TenantRecord, operator: Operator): Promise<AuditVerifyView> {
    return this.run(operator, { type: 'tenants', id: tenant.id }, (trusted) => this.verifier.verifyTenant(tenant, trusted.get(tenant.id), { maxEntries: this.config.AUDIT_VERIFY_HTTP_MAX_ENTRIES }));
  }

  platform(operator: Operator): Promise<AuditVerifyView> {
    return this.run(operator, { type: 'audit', id: PLATFORM_TRAIL_ID }, (trusted) => this.verifier.verifyPlatform(trusted.get(PLATFORM_TRAIL_ID), { maxEntries: this.config.AUDIT_VERIFY_HTTP_MAX_ENTRIES }));
  }

  private async run(operator: Operator, resource: { type: string; id: string }, verify: (trusted: Map<string, TrustedHead>) => Promise<ChainReport>): Promise<AuditVerifyView> {
    if (this.running) throw new AuditVerifyBusyProblem();
    this.running = true;
    const started = Date.now();
    try {
      const { heads, invalid, checkpoints } = this.checkpoints();
      const report = await verify(heads);
      const view: AuditVerifyView = {
        ok: report.ok && invalid === 0,
        chains: [report],
        checkpoints,
        invalidCheckpoints: invalid,
        verifiedAt: new Date(started).toISOString(),
        durationMs: Date.now() - started,
      };
      await this.trail.recordPlatform([
        {
          action: 'audit.verify',
          outcome: view.ok ? 'intact' : 'broken',
          actor: { kind: 'operator', subject: operator.subject, scopes: operator.scopes ?? [] },
          resource,
          requestId: operator.requestId ?? null,
          details: { entries: report.entries, lastSeq: report.lastSeq, firstBadSeq: report.firstBadSeq, checkpoint: report.checkpoint, checkpoints, invalidCheckpoints: invalid, durationMs: view.durationMs },
        },
      ]);
      return view;
    } finally {
      this.running = false;
    }
  }

  /** The newest validly signed head of each chain, as the CLI reads them by default. */
  private checkpoints(): { heads: Map<string, TrustedHead>; invalid: number; checkpoints: AuditVerifyView['checkpoints'] } {
    const file = this.config.AUDIT_CHECKPOINT_FILE;
    if (!file) return { heads: new Map(), invalid: 0, checkpoints: 'not_configured' };
    if (!existsSync(file)) return { heads: new Map(), invalid: 0, checkpoints: 'absent' };
    return { ...readCheckpoints(file, this.keys.publicKey), checkpoints: 'read' };
  }
}

interface Operator {
  readonly subject: string;
  readonly scopes?: readonly string[];
  readonly requestId?: string;
}
