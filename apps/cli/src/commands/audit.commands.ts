import { AuditKeys, AuditVerifier, readCheckpoints, TrustedHead } from '@bulkhead/audit';
import { BulkheadConfig } from '@bulkhead/config';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { print, printJson, withCliContext } from '../cli-context';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The tamper-evident audit trail');
  audit
    .command('verify')
    .description(
      'Recompute every tenant chain (or one) where it lives, and the platform chain, against the newest signed checkpoints; ' +
        'names the first bad sequence number of each broken chain. Exits 1 if any chain is broken.',
    )
    .option('--tenant <id or slug>', 'verify one tenant only')
    .option('--checkpoints <file>', 'signed checkpoints (JSON lines); default AUDIT_CHECKPOINT_FILE')
    .option('--json', 'print the reports as JSON')
    .action(async (options: { tenant?: string; checkpoints?: string; json?: boolean }) => {
      const { reports, invalid } = await withCliContext(async (context) => {
        const config = context.get(BulkheadConfig);
        const file = options.checkpoints ?? config.AUDIT_CHECKPOINT_FILE;
        let heads = new Map<string, TrustedHead>();
        let invalid = 0;
        if (file && existsSync(file)) ({ heads, invalid } = readCheckpoints(file, context.get(AuditKeys).publicKey));
        return { reports: await context.get(AuditVerifier).verify({ tenant: options.tenant, checkpoints: heads }), invalid };
      });
      if (options.json) printJson({ reports, invalidCheckpoints: invalid });
      else {
        for (const r of reports) {
          const checkpoint = r.checkpoint ? `, checkpoint ${r.checkpoint.seq} ${r.checkpoint.matches ? 'ok' : 'MISSING'}` : '';
          print(`${r.ok ? 'ok ' : 'BAD'} ${r.tenantId} (${r.placement}): ${r.entries} entries, last seq ${r.lastSeq}${checkpoint}`);
          if (!r.ok) print(`    first bad seq ${r.firstBadSeq ?? '-'}: ${r.problem}`);
        }
        if (invalid) print(`${invalid} checkpoint line(s) with a bad signature were ignored`);
      }
      if (reports.some((r) => !r.ok) || invalid) process.exitCode = 1;
    });
}
