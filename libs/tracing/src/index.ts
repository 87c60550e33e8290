export { startTracing, type TracingSettings } from './start-tracing';
export { setSpanTenantSource, tenantAttributes, type SpanTenantSource } from './span-tenant';
export { traceRequests, type RequestTracingOptions } from './request-tracing';
export { currentTraceCarrier, injectTraceHeaders, traceLogFields, runInContinuedSpan } from './trace-context';
export { TenantSpanProcessor } from './tenant-span.processor';
export { createFrameContextManager } from './start-tracing';
