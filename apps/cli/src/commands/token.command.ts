import { loadConfig } from '@bulkhead/config';
import { DevIssuer } from '@bulkhead/identity';
import { ProblemError } from '@bulkhead/problem';
import { Command } from 'commander';
import { print, withCliContext } from '../cli-context';

export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('Mint a token with the development issuer (DEV_ISSUER=true): for a tenant user, or an operator token.')
    .option('--tenant <tenant>', 'tenant id or slug')
    .option('--user <subject>', 'the sub claim', 'demo-user')
    .option('--operator', 'an operator token: the operator scope and no tenant')
    .option('--ttl <seconds>', 'lifetime in seconds', '3600')
    .action(async (options: { tenant?: string; user: string; operator?: boolean; ttl: string }) => {
      const config = loadConfig();
      if (!config.DEV_ISSUER) throw new ProblemError(400, 'invalid_arguments', 'Invalid arguments', 'Minting needs the development issuer: set DEV_ISSUER=true (never in production).');
      if (!!options.operator === !!options.tenant) throw new ProblemError(400, 'invalid_arguments', 'Invalid arguments', 'Give exactly one of --tenant <id|slug> or --operator.');
      const issuer = new DevIssuer(config);
      const ttl = Number(options.ttl);
      if (options.operator) {
        print(issuer.mint({ subject: options.user, scopes: [config.AUTH_OPERATOR_SCOPE], expiresInSeconds: ttl }));
        return;
      }
      const { TenantAdmin } = await import('@bulkhead/control-plane');
      const tenant = await withCliContext((context) => context.get(TenantAdmin).find(options.tenant as string));
      const claim = config.AUTH_TENANT_CLAIM_REFERS_TO === 'id' ? tenant.id : tenant.externalRef;
      if (!claim) throw new ProblemError(400, 'invalid_arguments', 'Invalid arguments', `Tenant ${tenant.slug} has no external reference, and AUTH_TENANT_CLAIM_REFERS_TO=external_ref.`);
      print(issuer.mint({ subject: options.user, tenantId: claim, expiresInSeconds: ttl }));
    });
}
