export { startTracing, type TracingSettings } from './start-tracing';
export { setSpanTenantSource, tenantAttributes, type SpanTenantSource } from './span-tenant';
export { enrichRequestSpan } from './request-span';
export { currentTraceCarrier, injectTraceHeaders, traceLogFields, runInContinuedSpan } from './trace-context';
export { TenantSpanProcessor } from './tenant-span.processor';
