import { Injectable } from '@nestjs/common';
import { SagaStep } from '../saga/saga-step';

/** Offboarding and restore (filled in by the offboarding work). */
@Injectable()
export class OffboardingSteps {
  offboardingSteps(): SagaStep[] {
    return [];
  }

  restoreSteps(): SagaStep[] {
    return [];
  }
}
