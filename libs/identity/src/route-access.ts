import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { OPERATOR_ROUTE } from './operator.decorator';
import { PUBLIC_ROUTE } from './public.decorator';

export interface RouteAccessRule {
  /** `@Public()`: no token needed. */
  readonly public: boolean;
  /** `@OperatorOnly()`: an operator token naming no tenant. */
  readonly operator: boolean;
}

/**
 * Who may call a route, read once per handler: the access decorators never change after start,
 * and every guard of the chain asks on every request.
 */
@Injectable()
export class RouteAccess {
  private readonly rules = new Map<Function, WeakMap<Function, RouteAccessRule>>();

  constructor(private readonly reflector: Reflector) {}

  of(context: ExecutionContext): RouteAccessRule {
    const controller = context.getClass();
    const handler = context.getHandler();
    let byHandler = this.rules.get(controller);
    if (!byHandler) this.rules.set(controller, (byHandler = new WeakMap()));
    let rule = byHandler.get(handler);
    if (!rule) {
      const targets = [handler, controller];
      rule = Object.freeze({
        public: this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true,
        operator: this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, targets) === true,
      });
      byHandler.set(handler, rule);
    }
    return rule;
  }
}
