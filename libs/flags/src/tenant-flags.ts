import { peekTenantId } from '@bulkhead/tenancy';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { Client, EvaluationContext, OpenFeature } from '@openfeature/server-sdk';
import { randomUUID } from 'node:crypto';
import { BulkheadFlagProvider } from './bulkhead-flag.provider';
import { FlagCatalogue } from './flag-catalogue';
import { explainFlag, FlagResolution } from './flag-rule';
import { peekTenantContext } from './tenant-of-context';

export interface EffectiveFlag extends FlagResolution {
  readonly key: string;
}

/**
 * Flags for the tenant of the current unit of work, through OpenFeature's server SDK (so hooks
 * and other providers plug in as usual). Each app instance registers the provider under its own
 * OpenFeature domain, so two apps in one process never share or close each other's.
 */
@Injectable()
export class TenantFlags implements OnModuleInit {
  readonly provider: BulkheadFlagProvider;
  private readonly domain = `bulkhead-${randomUUID()}`;
  private client!: Client;

  constructor(private readonly catalogue: FlagCatalogue) {
    this.provider = new BulkheadFlagProvider(catalogue);
  }

  async onModuleInit(): Promise<void> {
    await OpenFeature.setProviderAndWait(this.domain, this.provider);
    this.client = OpenFeature.getClient(this.domain);
  }

  /** Whether the boolean flag is on for the current tenant: false if it is missing, not a boolean, or there is no tenant. */
  isEnabled(key: string): Promise<boolean> {
    return this.client.getBooleanValue(key, false, contextOf());
  }

  /**
   * The same provider's answer without OpenFeature's per-call machinery (hooks, context merging, a
   * promise): for hot paths that evaluate flags per row or per request. Same rules, same subject
   * (the unit of work's tenant); false where `isEnabled` would give its default.
   */
  enabledNow(key: string): boolean {
    try {
      return this.provider.resolve(key, 'boolean', NO_TENANT).value === true;
    } catch {
      return false;
    }
  }

  /** The current tenant's value of a string or number flag (a setting), or `fallback`. */
  value<T extends string | number>(key: string, fallback: T): Promise<T> {
    const context = contextOf();
    return (typeof fallback === 'number' ? this.client.getNumberValue(key, fallback, context) : this.client.getStringValue(key, fallback as string, context)) as Promise<T>;
  }

  /** Every flag's value for the current tenant, with why; none without a tenant. */
  effective(): EffectiveFlag[] {
    const tenant = peekTenantContext();
    if (!tenant) return [];
    return [...this.catalogue.all()].map((rule) => ({ key: rule.key, ...explainFlag(rule, tenant.tenantId, tenant.tier) }));
  }
}

const NO_TENANT: EvaluationContext = Object.freeze({});

/** The evaluation subject: the unit of work's tenant, never anything a client sent. */
function contextOf(): EvaluationContext {
  const tenantId = peekTenantId();
  return tenantId === undefined ? NO_TENANT : { targetingKey: tenantId };
}
