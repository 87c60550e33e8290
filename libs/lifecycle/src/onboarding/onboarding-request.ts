import { CreateTenantDto } from '@bulkhead/control-plane';

/** What an onboarding saga was asked for, kept in its ledger row. */
export interface OnboardingRequest extends CreateTenantDto {
  /** `signup` (self-serve) or `operator`. */
  source: 'signup' | 'operator';
}

export const ONBOARDING_STEPS = ['reserve', 'place', 'storage', 'migrate', 'seed', 'dns', 'identity', 'activate', 'announce'] as const;
