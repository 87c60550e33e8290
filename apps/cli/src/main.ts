import { exitWithStartupError } from '@bulkhead/config';
import { toProblem } from '@bulkhead/problem';
import { Command } from 'commander';
import { existsSync } from 'node:fs';

type Register = (program: Command) => void;

/**
 * Each command module and the commands it defines. Only the module of the command asked for is
 * loaded (all of them for help or an unknown command): loading every module loads the whole
 * platform, which is most of the time a quick command such as `token --operator` takes.
 */
const COMMAND_MODULES: Array<{ commands: string[]; load: () => Promise<Register> }> = [
  { commands: ['setup', 'migrate'], load: async () => (await import('./commands/database.commands')).registerDatabaseCommands },
  { commands: ['tenant'], load: async () => (await import('./commands/tenant.commands')).registerTenantCommands },
  { commands: ['token'], load: async () => (await import('./commands/token.command')).registerTokenCommand },
  { commands: ['audit'], load: async () => (await import('./commands/audit.commands')).registerAuditCommands },
  { commands: ['doctor'], load: async () => (await import('./commands/doctor.command')).registerDoctorCommand },
  { commands: ['billing'], load: async () => (await import('./commands/billing.commands')).registerBillingCommands },
  { commands: ['demo', 'seed-demo'], load: async () => (await import('./commands/demo.command')).registerDemoCommands },
];

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const program = new Command('bulkhead').description('Bulkhead operator CLI').showHelpAfterError();
  const asked = COMMAND_MODULES.filter((module) => module.commands.includes(process.argv[2]));
  for (const module of asked.length ? asked : COMMAND_MODULES) (await module.load())(program);
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    // Operator mistakes (bad slug, unknown tenant, wrong state) print like the API's problem details.
    const problem = toProblem(error);
    if (problem.status < 500) {
      process.stderr.write(`bulkhead: ${problem.title}: ${problem.detail ?? problem.code}\n`);
      process.exit(2);
    }
    throw error;
  }
}

main().catch(exitWithStartupError);
