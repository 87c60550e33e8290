/**
 * `npm run bench [scenario...]`: runs the named scenarios (default: all) and rewrites their
 * sections of docs/benchmarks.md, keeping the others.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchSection } from './bench-section';
import { auditBench } from './scenarios/audit';
import { citusClusterFromEnv } from './citus/citus-cluster';
import { citusBench } from './scenarios/citus';
import { fairQueueBench } from './scenarios/fair-queue';
import { fairnessBench } from './scenarios/fairness';
import { instancesBench } from './scenarios/instances';
import { rateLimitBench } from './scenarios/rate-limit';
import { meteringBench } from './scenarios/metering';
import { observeBench } from './scenarios/observe';
import { scopingBench } from './scenarios/scoping';
import { siloScaleBench } from './scenarios/silo-scale';
import { signupBench } from './scenarios/signup';
import { tierRouterBench } from './scenarios/tier-router';
import { tenantMovesBench } from './scenarios/tenant-moves';

const SCENARIOS: Record<string, () => Promise<BenchSection>> = {
  scoping: scopingBench,
  'fair-queue': fairQueueBench,
  'tier-router': tierRouterBench,
  'silo-scale': siloScaleBench,
  fairness: fairnessBench,
  'rate-limit': rateLimitBench,
  audit: auditBench,
  metering: meteringBench,
  signup: signupBench,
  citus: citusBench,
  'tenant-moves': tenantMovesBench,
  observe: observeBench,
  instances: instancesBench,
};

/** Scenarios that need something this machine may not have; left out of a default run without it. */
const OPTIONAL: Record<string, () => boolean> = {
  citus: () => citusClusterFromEnv() !== undefined,
};

const DOC = join(__dirname, '..', '..', 'docs', 'benchmarks.md');
const HEADER = `# Benchmarks

Reproduce with \`npm run bench\` (all scenarios) or \`npm run bench -- <scenario>\` (${Object.keys(SCENARIOS).join(', ')}).
\`BENCH_SCALE=0.1\` makes a quick smoke run. Needs the same PostgreSQL and Redis as the tests; the scoping scenario
rebuilds its own \`bulkhead_bench\` database, the audit scenario \`bulkhead_bench_audit\`, the tenant-moves scenario \`bulkhead_bench_moves\`, the instances scenario \`bulkhead_bench_instances\`. The citus scenario runs only when
\`BULKHEAD_TEST_CITUS_URL\` and \`BULKHEAD_TEST_CITUS_WORKERS\` name a Citus cluster (docs/citus.md). Figures are ratios measured side by side in one run: these machines
(2 cores, shared) are noisy, so compare ratios, not absolute numbers.
`;

async function main(): Promise<void> {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SCENARIOS).filter((name) => OPTIONAL[name]?.() ?? true);
  for (const name of names) if (!SCENARIOS[name]) throw new Error(`Unknown scenario ${name}; choose from ${Object.keys(SCENARIOS).join(', ')}`);
  const sections = new Map<string, string>();
  if (existsSync(DOC)) {
    for (const part of readFileSync(DOC, 'utf8').split(/^<!-- scenario: /m).slice(1)) {
      const name = part.slice(0, part.indexOf(' -->'));
      sections.set(name, '<!-- scenario: ' + part.trimEnd() + '\n');
    }
  }
  for (const name of names) {
    process.stderr.write(`bench: running ${name}...\n`);
    const section = await SCENARIOS[name]();
    const stamp = new Date().toISOString().slice(0, 10);
    sections.set(name, `<!-- scenario: ${name} -->\n## ${section.title}\n\nMeasured ${stamp}, \`npm run bench -- ${name}\`.\n\n${section.markdown}\n`);
    process.stdout.write(`## ${section.title}\n\n${section.markdown}\n\n`);
  }
  const ordered = Object.keys(SCENARIOS).filter((name) => sections.has(name)).map((name) => sections.get(name));
  writeFileSync(DOC, [HEADER, ...ordered].join('\n'));
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);
