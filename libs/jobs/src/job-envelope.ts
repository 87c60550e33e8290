/**
 * What a job carries besides its payload: who enqueued it for which tenant. Set by the producer
 * from the request's tenant context, never by the caller; a platform job has no tenant.
 */
export interface JobEnvelope<P = unknown> {
  v: 1;
  tenantId: string | null;
  userId: string;
  requestId?: string;
  /** W3C trace context of the request that enqueued it (`traceparent`, `tracestate`): the job's spans continue its trace. */
  trace?: Record<string, string>;
  payload: P;
}

export function isJobEnvelope(value: unknown): value is JobEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const envelope = value as Partial<JobEnvelope>;
  return envelope.v === 1 && (envelope.tenantId === null || typeof envelope.tenantId === 'string') && typeof envelope.userId === 'string';
}
