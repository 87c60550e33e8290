import { ProblemBody } from '@bulkhead/problem';
import { INestApplication, ParseBoolPipe, ParseFloatPipe, ParseIntPipe, ParseUUIDPipe, PipeTransform, Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA, METHOD_METADATA, PATH_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { RequestMethod } from '@nestjs/common/enums/request-method.enum';
import { APP_GUARD, APP_INTERCEPTOR, ModulesContainer } from '@nestjs/core';
import type { SchemaObject } from '@nestjs/swagger';
import { DeclaredProblem, declaredProblems, ProblemScope } from './api-problem.decorator';
import { DeclaredHeader, declaredHeaders } from './api-request-header.decorator';
import { DeclaredResponseHeader, declaredResponseHeaders } from './api-response-header.decorator';

export interface RouteInfo {
  /** Unique per handler; carried through the generated document to find the route again. */
  key: string;
  controller: Type<unknown>;
  methodKey: string;
  /** Lower-case HTTP method. */
  method: string;
  handler: (...args: unknown[]) => unknown;
  bodyTypes: Array<Type<unknown>>;
  queryTypes: Array<Type<unknown>>;
  /** Path parameters whose pipe fixes their shape (ParseUUIDPipe: a uuid). */
  pathParameters: Map<string, SchemaObject>;
  /** Declared on the controller class, then on the method. */
  problems: ProblemBody[];
}

export interface DiscoveredRoutes {
  routes: RouteInfo[];
  /** Declared on global guards and interceptors: answered by every operation they cover (within its scope). */
  guardProblems: DeclaredProblem[];
  /** Request headers global guards and interceptors read (within their scope). */
  guardHeaders: DeclaredHeader[];
  /** Response headers global guards and interceptors set (within their scope). */
  guardResponseHeaders: DeclaredResponseHeader[];
}

const PIPE_SCHEMAS: Array<[Type<PipeTransform>, SchemaObject]> = [
  [ParseUUIDPipe, { type: 'string', format: 'uuid' }],
  [ParseIntPipe, { type: 'integer' }],
  [ParseFloatPipe, { type: 'number' }],
  [ParseBoolPipe, { type: 'boolean' }],
];

const NOT_A_DTO = new Set<unknown>([String, Number, Boolean, Object, Array, Date, undefined]);

interface RouteArgument {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

/** Every controller handler of the application, read from the metadata Nest itself routes by. */
export function discoverRoutes(app: INestApplication): DiscoveredRoutes {
  const modules = app.get(ModulesContainer, { strict: false });
  const routes: RouteInfo[] = [];
  const guardProblems: DeclaredProblem[] = [];
  const guardHeaders: DeclaredHeader[] = [];
  const guardResponseHeaders: DeclaredResponseHeader[] = [];
  const seenControllers = new Set<unknown>();
  const seenEnhancers = new Set<Type<unknown>>();
  const keys = new Map<string, Type<unknown>>();
  for (const module of modules.values()) {
    for (const [token, wrapper] of module.providers) {
      // APP_GUARD / APP_INTERCEPTOR providers are registered under "APP_GUARD (UUID: ...)"; their class carries the declarations.
      if (typeof token === 'string' && (token.startsWith(APP_GUARD) || token.startsWith(APP_INTERCEPTOR)) && wrapper.metatype) {
        guardProblems.push(...declaredProblems(wrapper.metatype));
        guardHeaders.push(...declaredHeaders(wrapper.metatype));
        guardResponseHeaders.push(...declaredResponseHeaders(wrapper.metatype));
      }
    }
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as Type<unknown> | null;
      if (!controller || seenControllers.has(controller)) continue;
      seenControllers.add(controller);
      for (const methodKey of handlerNames(controller)) {
        const handler = controller.prototype[methodKey] as (...args: unknown[]) => unknown;
        const key = `${controller.name}.${methodKey}`;
        const owner = keys.get(key);
        if (owner && owner !== controller) throw new Error(`Two controllers are named ${controller.name}; the OpenAPI document cannot tell their routes apart`);
        keys.set(key, controller);
        const problems = [...declaredProblems(controller), ...declaredProblems(handler)].map((declared) => declared.body);
        // Enhancers a platform feature attaches to the routes it covers (not globally) declare
        // what they answer the same way global ones do, scope included.
        for (const enhancer of attachedEnhancers(handler)) {
          if (seenEnhancers.has(enhancer)) continue;
          seenEnhancers.add(enhancer);
          guardProblems.push(...declaredProblems(enhancer));
          guardHeaders.push(...declaredHeaders(enhancer));
        }
        const method = (RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod] ?? 'ALL').toLowerCase();
        routes.push({ key, controller, methodKey, method, handler, ...argumentsOf(controller, methodKey), problems });
      }
    }
  }
  return { routes, guardProblems, guardHeaders, guardResponseHeaders };
}

/** The classes of the guards and interceptors a handler carries (instances stand for their class). */
function attachedEnhancers(handler: object): Array<Type<unknown>> {
  const items = [...((Reflect.getMetadata(GUARDS_METADATA, handler) ?? []) as unknown[]), ...((Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[])];
  return items.map((item) => (typeof item === 'function' ? item : (item as object).constructor) as Type<unknown>);
}

function handlerNames(controller: Type<unknown>): string[] {
  const names = new Set<string>();
  for (let proto = controller.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || names.has(name)) continue;
      const value = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (typeof value === 'function' && Reflect.getMetadata(PATH_METADATA, value) !== undefined && Reflect.getMetadata(METHOD_METADATA, value) !== undefined) {
        names.add(name);
      }
    }
  }
  return [...names];
}

function argumentsOf(controller: Type<unknown>, methodKey: string): Pick<RouteInfo, 'bodyTypes' | 'queryTypes' | 'pathParameters'> {
  const args: Record<string, RouteArgument> = Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, methodKey) ?? {};
  const types: unknown[] = Reflect.getMetadata('design:paramtypes', controller.prototype, methodKey) ?? [];
  const bodyTypes: Array<Type<unknown>> = [];
  const queryTypes: Array<Type<unknown>> = [];
  const pathParameters = new Map<string, SchemaObject>();
  for (const [key, argument] of Object.entries(args)) {
    const kind = Number(key.split(':')[0]);
    const type = types[argument.index];
    if (kind === RouteParamtypes.BODY && argument.data === undefined && !NOT_A_DTO.has(type)) bodyTypes.push(type as Type<unknown>);
    if (kind === RouteParamtypes.QUERY && argument.data === undefined && !NOT_A_DTO.has(type)) queryTypes.push(type as Type<unknown>);
    if (kind === RouteParamtypes.PARAM && typeof argument.data === 'string') {
      const schema = pipeSchema(argument.pipes ?? []);
      if (schema) pathParameters.set(argument.data, schema);
    }
  }
  return { bodyTypes, queryTypes, pathParameters };
}

function pipeSchema(pipes: unknown[]): SchemaObject | undefined {
  for (const pipe of pipes) {
    for (const [pipeType, schema] of PIPE_SCHEMAS) {
      if (pipe === pipeType || pipe instanceof pipeType) return schema;
    }
  }
  return undefined;
}

/** Whether a guard's declaration applies to a route, read the way a guard's Reflector reads it. */
export function inScope(declared: { scope: ProblemScope }, route: RouteInfo): boolean {
  if (declared.scope.methods !== undefined && !declared.scope.methods.includes(route.method)) return false;
  const carries = (key: string) => Reflect.getMetadata(key, route.handler) !== undefined || Reflect.getMetadata(key, route.controller) !== undefined;
  if (declared.scope.when !== undefined && !carries(declared.scope.when)) return false;
  if (declared.scope.unless !== undefined && carries(declared.scope.unless)) return false;
  return true;
}
