import { OPERATOR_ROUTE } from '@bulkhead/identity';
import { CanActivate, ExecutionContext, Injectable, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { setRequestIntent } from './request-intent';

interface RouteShape {
  method: string;
  route: string;
  resourceType: string;
  operatorRoute: boolean;
}

/**
 * Names the request for the audit trail (route template, resource), once per handler, from the
 * route's metadata rather than the HTTP adapter's request, and leaves it in the request's context.
 * It never refuses: the access chain decides, this only describes. No I/O.
 */
@Injectable()
export class AuditIntentGuard implements CanActivate {
  private readonly shapes = new WeakMap<Function, RouteShape>();

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const handler = context.getHandler();
    let shape = this.shapes.get(handler);
    if (!shape) {
      shape = this.shapeOf(context);
      this.shapes.set(handler, shape);
    }
    const params = (context.switchToHttp().getRequest<{ params?: Record<string, unknown> }>().params ?? {}) as Record<string, unknown>;
    const id = typeof params.id === 'string' ? params.id.slice(0, 200) : null;
    setRequestIntent({ action: `${shape.method} ${shape.route}`, method: shape.method, route: shape.route, resourceType: shape.resourceType, resourceId: id, operatorRoute: shape.operatorRoute });
    return true;
  }

  private shapeOf(context: ExecutionContext): RouteShape {
    const controller = context.getClass();
    const handler = context.getHandler();
    const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
    const own = String(Reflect.getMetadata(PATH_METADATA, handler) ?? '');
    const route = '/' + [base, own].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');
    const method = RequestMethod[(Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined) ?? RequestMethod.GET] ?? 'GET';
    const segments = route.split('/').filter((segment) => segment && !segment.startsWith(':') && segment !== 'v1' && segment !== 'admin');
    return {
      method,
      route,
      resourceType: segments[0] ?? 'root',
      operatorRoute: this.reflector.getAllAndOverride<boolean>(OPERATOR_ROUTE, [handler, controller]) === true,
    };
  }
}
