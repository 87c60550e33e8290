/** Who acted. `subject` is personal data: it is stored encrypted with the tenant's key, never in clear. */
export interface AuditActor {
  readonly kind: 'tenant_user' | 'operator' | 'job' | 'system' | 'anonymous';
  readonly subject?: string;
  readonly scopes?: readonly string[];
  /** Set when an operator acts inside a tenant through an impersonation grant. */
  readonly impersonation?: { readonly operator: string; readonly grantId: string; readonly mode: 'read' | 'write'; readonly reason: string };
}

/** One thing that happened, as a caller describes it; `AuditTrail` turns it into a chained entry. */
export interface AuditEvent {
  /** What was done: `POST /v1/customers/:id`, `job.run`, `impersonation.grant`... */
  readonly action: string;
  /** `committed`, `refused`, `failed`, `succeeded`, `started`... */
  readonly outcome: string;
  readonly actor: AuditActor;
  readonly resource?: { readonly type: string; readonly id?: string | null; readonly route?: string };
  readonly requestId?: string | null;
  /** How the tenant was resolved: claim, registry, placement model and cluster. */
  readonly resolution?: Readonly<Record<string, unknown>> | null;
  /** The boundary checks that applied. */
  readonly boundary?: readonly string[];
  /** HTTP status and problem code of a refused or failed request. */
  readonly status?: number;
  readonly code?: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /** Further personal data (free text an operator typed, an e-mail...): encrypted like the subject. */
  readonly personal?: Readonly<Record<string, unknown>>;
}
