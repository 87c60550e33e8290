import type { Attributes } from '@opentelemetry/api';
import type { RequestOptions } from 'node:http';

/** The attribute the HTTP instrumentation puts an outgoing call's address in (`url.full`). */
const URL_FULL = 'url.full';

/**
 * An outgoing call's `url.full` without its query string or credentials, for the HTTP
 * instrumentation's `startOutgoingSpanHook` (whose attributes replace the instrumentation's own).
 * Left to itself the instrumentation keeps the whole query string (it masks only a few signature
 * parameters), and what a domain puts there is its own business: a search term, an e-mail, a
 * cursor, a signed link. The path stays: a service call's route and resource id are what a trace
 * is read for.
 */
export function outgoingUrlAttributes(request: RequestOptions): Attributes {
  const protocol = request.protocol || 'http:';
  const port = request.port === undefined || request.port === null ? '' : String(request.port);
  let host = request.host || request.hostname || 'localhost';
  if (!host.includes(':') && port && port !== '80' && port !== '443') host += `:${port}`;
  const path = (request.path || '/').split(/[?#]/, 1)[0];
  return { [URL_FULL]: `${protocol}//${host}${path}` };
}
