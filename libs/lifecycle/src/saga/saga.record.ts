export type SagaKind = 'onboarding' | 'offboarding' | 'restore';
export type SagaStatus = 'running' | 'succeeded' | 'failed' | 'compensating' | 'aborted';
export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'compensated';

export interface SagaRecord {
  id: string;
  tenantId: string;
  kind: SagaKind;
  status: SagaStatus;
  request: Record<string, unknown>;
  startedBy: string;
  reason: string | null;
  abortRequested: boolean;
  runs: number;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
}

export interface StepRecord {
  position: number;
  step: string;
  status: StepStatus;
  attempts: number;
  failures: number;
  lastError: string | null;
  details: Record<string, unknown>;
  startedAt: Date | null;
  finishedAt: Date | null;
}
