import { BulkheadConfig } from '@bulkhead/config';
import { buildOpenApiDocument } from '@bulkhead/openapi';
import { answerClientError, PROBLEM_OBSERVER, ProblemError, ProblemFilter, ProblemObserver, problemValidationPipe, refuseUnstorableText, sendProblem, toProblem } from '@bulkhead/problem';
import { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * Everything about the HTTP surface that is not a route, applied identically by `main.ts`, the
 * tests and the benchmark, so they all exercise the same stack.
 */
export function configureHttp(app: NestExpressApplication, config: BulkheadConfig, options: { docs?: boolean } = {}): void {
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // Requests Node's HTTP parser refuses never reach express: answer those in the same format too.
  app.getHttpServer().on('clientError', answerClientError);
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: config.BODY_LIMIT, strict: true, type: ['application/json', 'application/*+json'], reviver: refuseUnstorableText });
  // Errors raised by body-parser never reach Nest's filters: answer them here, in the same format.
  app.use((error: unknown, _request: Request, response: Response, next: NextFunction) => {
    if (response.headersSent) return next(error);
    sendProblem(response, toProblem(error));
  });
  app.useGlobalFilters(new ProblemFilter(observerOf(app)));
  app.useGlobalPipes(problemValidationPipe());
  if (options.docs !== false) {
    SwaggerModule.setup('docs', app, buildOpenApiDocument(app), { jsonDocumentUrl: 'docs/openapi.json' });
  }
}

/** The app's problem observer (the audit trail's refusal recorder), if it provides one. */
function observerOf(app: NestExpressApplication): ProblemObserver | undefined {
  try {
    return app.get<ProblemObserver>(PROBLEM_OBSERVER, { strict: false });
  } catch {
    return undefined;
  }
}

/** A write with a body must say it is JSON; anything else is 415, before any parsing. */
function requireJsonBody(request: Request, response: Response, next: NextFunction): void {
  if (!BODY_METHODS.has(request.method)) return next();
  const hasBody = Number(request.headers['content-length'] ?? 0) > 0 || request.headers['transfer-encoding'] !== undefined;
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  if (hasBody && !/^application\/([a-z0-9.+-]+\+)?json\s*(;|$)/.test(type)) {
    sendProblem(response, toProblem(new ProblemError(415, 'unsupported_media_type', 'Unsupported media type', 'Send the request body as application/json.')));
    return;
  }
  next();
}
