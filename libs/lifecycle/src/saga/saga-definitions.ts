import { Injectable } from '@nestjs/common';
import { OffboardingSteps } from '../offboarding/offboarding.steps';
import { OnboardingSteps } from '../onboarding/onboarding.steps';
import { SagaKind } from './saga.record';
import { StepRecord } from './saga.record';
import { SagaStep } from './saga-step';

/** The steps of each kind of saga, in order. */
@Injectable()
export class SagaDefinitions {
  private readonly byKind: Record<SagaKind, SagaStep[]>;

  constructor(onboarding: OnboardingSteps, offboarding: OffboardingSteps) {
    this.byKind = { onboarding: onboarding.steps(), offboarding: offboarding.offboardingSteps(), restore: offboarding.restoreSteps() };
  }

  steps(kind: SagaKind): readonly SagaStep[] {
    return this.byKind[kind];
  }

  names(kind: SagaKind): string[] {
    return this.byKind[kind].map((step) => step.name);
  }

  /** The first irreversible step (`SagaStep.irreversible`) these records show begun: past it, nothing is undone. */
  pointOfNoReturn(kind: SagaKind, records: readonly StepRecord[]): SagaStep | undefined {
    // Started once is begun for good: an operator's retry sets a failed step pending again, its start kept.
    return this.byKind[kind].find((step) => step.irreversible && records.some((record) => record.step === step.name && (record.status !== 'pending' || record.startedAt !== null)));
  }
}
