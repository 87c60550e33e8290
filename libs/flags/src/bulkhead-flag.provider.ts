import { peekTenantContext } from './tenant-of-context';
import {
  EvaluationContext,
  FlagNotFoundError,
  InvalidContextError,
  JsonValue,
  Provider,
  ResolutionDetails,
  TargetingKeyMissingError,
  TypeMismatchError,
} from '@openfeature/server-sdk';
import { explainFlag, FlagValue } from './flag-rule';
import { FlagCatalogue } from './flag-catalogue';

/**
 * OpenFeature's provider over our own flags table, evaluated from this instance's memory.
 *
 * The subject of an evaluation is the tenant of the current unit of work and nothing else: a
 * `targetingKey` in the evaluation context must name that same tenant (else INVALID_CONTEXT and
 * the caller's default), and with no tenant in the unit of work there is nothing to evaluate
 * (TARGETING_KEY_MISSING, the default). The tier comes from the same context; attributes a caller
 * adds are never read, so no client can select another tenant's flags.
 */
export class BulkheadFlagProvider implements Provider {
  readonly metadata = { name: 'bulkhead-flags' } as const;
  readonly runsOn = 'server' as const;

  constructor(private readonly catalogue: FlagCatalogue) {}

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, 'boolean', context) as ResolutionDetails<boolean>);
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, 'string', context) as ResolutionDetails<string>);
  }

  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, 'number', context) as ResolutionDetails<number>);
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string): Promise<ResolutionDetails<T>> {
    // Flags hold scalars only.
    return Promise.reject(new TypeMismatchError(`flag ${flagKey} is not an object`));
  }

  /** Synchronous core, shared with `TenantFlags`' direct path. Throws OpenFeature's typed errors. */
  resolve(flagKey: string, type: 'boolean' | 'string' | 'number', context: EvaluationContext): ResolutionDetails<FlagValue> {
    const tenant = peekTenantContext();
    if (!tenant) throw new TargetingKeyMissingError('no tenant in the unit of work');
    if (context.targetingKey !== undefined && context.targetingKey !== tenant.tenantId) throw new InvalidContextError('the targeting key must be the tenant of the unit of work');
    const rule = this.catalogue.rule(flagKey);
    if (!rule) throw new FlagNotFoundError(`no flag ${flagKey}`);
    const resolution = explainFlag(rule, tenant.tenantId, tenant.tier);
    if (typeof resolution.value !== type) throw new TypeMismatchError(`flag ${flagKey} is not a ${type}`);
    return { value: resolution.value, reason: resolution.reason, variant: resolution.variant };
  }
}
