import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { spanTenant } from './span-tenant';

/**
 * Puts the tenant and its placement on every span started inside a unit of work (pg queries,
 * Redis commands, Nest handlers, jobs): attributes `bulkhead.tenant_id`, `bulkhead.tenant.tier`,
 * `bulkhead.placement.model`, `bulkhead.placement.cluster`. Unsampled spans are skipped.
 */
export class TenantSpanProcessor implements SpanProcessor {
  onStart(span: Span, _parent: Context): void {
    if (!span.isRecording()) return;
    const tenant = spanTenant();
    if (tenant) span.setAttributes(tenant);
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
