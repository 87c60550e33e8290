import { ClsServiceManager } from 'nestjs-cls';

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
  const cls = ClsServiceManager.getClsService();
  if (cls.isActive()) cls.set(INTENT_KEY, intent);
}

export function currentRequestIntent(): RequestIntent | undefined {
  const cls = ClsServiceManager.getClsService();
  return cls.isActive() ? cls.get<RequestIntent | undefined>(INTENT_KEY) : undefined;
}
