import { setUnitOfWorkValue, unitOfWorkValue } from '@bulkhead/tenancy';

const INTENT_KEY = Symbol.for('bulkhead.audit.intent');

/** What the current request is, as the audit trail names it; set by `AuditIntentGuard`. */
export interface RequestIntent {
  readonly action: string;
  readonly method: string;
  readonly route: string;
  readonly resourceType: string;
  readonly resourceId: string | null;
  readonly operatorRoute: boolean;
}

export function setRequestIntent(intent: RequestIntent): void {
  setUnitOfWorkValue(INTENT_KEY, intent);
}

export function currentRequestIntent(): RequestIntent | undefined {
  return unitOfWorkValue<RequestIntent>(INTENT_KEY);
}
