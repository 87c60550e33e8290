export type TenantTier = 'free' | 'pro' | 'enterprise';
export type IsolationModel = 'pool' | 'schema' | 'silo';

/** Who is acting for which tenant, fixed for one request or one job. Never built from input. */
export interface TenantContext {
  readonly tenantId: string;
  readonly slug: string;
  readonly tier: TenantTier;
  readonly isolation: IsolationModel;
  readonly region: string;
  readonly userId: string;
  readonly requestId?: string;
}
