export { FLAGS_FEATURE } from './flags.feature';
export { FlagsModule } from './flags.module';
export { TenantFlags, type EffectiveFlag } from './tenant-flags';
export { RequireFlag } from './require-flag.decorator';
export { FeatureDisabledProblem } from './flags.errors';
export { BulkheadFlagProvider } from './bulkhead-flag.provider';
export { resolveFlag, explainFlag, rolloutBucket, type FlagRule, type FlagValue } from './flag-rule';
