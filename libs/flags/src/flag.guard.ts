import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FeatureDisabledProblem } from './flags.errors';
import { TenantFlags } from './tenant-flags';
import { REQUIRED_FLAG } from './required-flag.key';

/** Runs after the global access chain, so the tenant context is established when it evaluates. */
@Injectable()
export class FlagGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly flags: TenantFlags,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const key = this.reflector.getAllAndOverride<string | undefined>(REQUIRED_FLAG, [context.getHandler(), context.getClass()]);
    if (key === undefined) return true;
    if (!(await this.flags.isEnabled(key))) throw new FeatureDisabledProblem();
    return true;
  }
}
