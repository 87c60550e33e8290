import { exitWithStartupError } from '@bulkhead/config';
import { toProblem } from '@bulkhead/problem';
import { Command } from 'commander';
import { existsSync } from 'node:fs';
import { registerDatabaseCommands } from './commands/database.commands';
import { registerDemoCommands } from './commands/demo.command';
import { registerDoctorCommand } from './commands/doctor.command';
import { registerTenantCommands } from './commands/tenant.commands';
import { registerTokenCommand } from './commands/token.command';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const program = new Command('bulkhead').description('Bulkhead operator CLI').showHelpAfterError();
  registerDatabaseCommands(program);
  registerTenantCommands(program);
  registerTokenCommand(program);
  registerDoctorCommand(program);
  registerDemoCommands(program);
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
