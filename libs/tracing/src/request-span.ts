import { Attributes, trace } from '@opentelemetry/api';

/**
 * Names the request's server span after its route template and puts the tenant on it, once both
 * are known (the tenant guard runs after the span started). A no-op when tracing is off or the
 * request is not sampled.
 */
export function enrichRequestSpan(method: string, route: string | undefined, tenant: Attributes | undefined): void {
  const span = trace.getActiveSpan();
  if (!span?.isRecording()) return;
  if (route !== undefined) {
    span.updateName(`${method} ${route}`);
    span.setAttribute('http.route', route);
  }
  if (tenant) span.setAttributes(tenant);
}
