import { ANY_QUERY, ApiProblem } from '@bulkhead/openapi';
import { ValidationProblem } from '@bulkhead/problem';
import { CanActivate, ExecutionContext, Injectable, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';

/** Enough to name the mistake; a URL full of parameters is not echoed whole. */
const NAMED_AT_MOST = 10;

/**
 * A query parameter on an API route that reads none was ignored: `GET /v1/flags?tenant=<other>`
 * looked like a request for another tenant's flags and answered the caller's own, and a typo in a
 * filter went unnoticed. Routes with a query DTO refuse unknown names through the validation pipe
 * (`forbidNonWhitelisted`); this refuses them where there is no DTO to do it, with the same 400.
 * Routes outside the API marked `@AcceptsAnyQuery()` (health, key set, metrics, console) are left
 * alone. The verdict is kept per controller and handler, as `RouteAccess` keeps its own.
 */
@Injectable()
@ApiProblem(new ValidationProblem([{ field: 'bogus', messages: ['property bogus should not exist'] }]), { unless: ANY_QUERY })
export class UndeclaredQueryGuard implements CanActivate {
  private readonly readsQuery = new WeakMap<object, WeakMap<object, boolean>>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const request = context.switchToHttp().getRequest<{ url: string; query?: Record<string, unknown> }>();
    if (!request.url.includes('?')) return true;
    const controller = context.getClass();
    const handler = context.getHandler();
    let ofController = this.readsQuery.get(controller);
    if (!ofController) this.readsQuery.set(controller, (ofController = new WeakMap()));
    let reads = ofController.get(handler);
    if (reads === undefined) {
      reads = routeReadsQuery(controller, handler);
      ofController.set(handler, reads);
    }
    if (reads) return true;
    const names = Object.keys(request.query ?? {});
    if (names.length === 0) return true;
    throw new ValidationProblem(names.slice(0, NAMED_AT_MOST).map((name) => ({ field: name, messages: [`property ${name} should not exist`] })));
  }
}

function routeReadsQuery(controller: Type<unknown>, handler: { readonly name: string }): boolean {
  if (Reflect.getMetadata(ANY_QUERY, handler) || Reflect.getMetadata(ANY_QUERY, controller)) return true;
  const args: Record<string, unknown> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {};
  return Object.keys(args).some((key) => Number(key.split(':')[0]) === RouteParamtypes.QUERY);
}
