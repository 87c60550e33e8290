/** The platform's tiers and isolation models: the vocabulary of the settings that map one to the other. */
export type TenantTier = 'free' | 'pro' | 'enterprise';
export type IsolationModel = 'pool' | 'schema' | 'silo';

export const TENANT_TIERS: readonly TenantTier[] = ['free', 'pro', 'enterprise'];
export const ISOLATION_MODELS: readonly IsolationModel[] = ['pool', 'schema', 'silo'];
