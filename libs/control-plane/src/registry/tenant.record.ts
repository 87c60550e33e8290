import { IsolationModel, TenantTier } from '@bulkhead/config';

export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'deleted';

export const TENANT_STATUSES: readonly TenantStatus[] = ['provisioning', 'active', 'suspended', 'deleted'];

/** Lower-case letters, digits and single hyphens; usable as a subdomain label. */
export const TENANT_SLUG_PATTERN = /^[a-z](?:[a-z0-9]|-(?!-)){1,38}[a-z0-9]$/;

export interface TenantRecord {
  id: string;
  slug: string;
  name: string;
  tier: TenantTier;
  isolation: IsolationModel;
  status: TenantStatus;
  region: string;
  externalRef: string | null;
  /** Placement: the cluster, and the schema (schema model) or database (silo model). */
  cluster: string;
  schemaName: string | null;
  databaseName: string | null;
  /** How many tenant migrations (of every owner) its placement carries: current when it equals the set's size. */
  dataVersion: number;
  /** Bumped by every placement switch (a move), so a cached placement can be told outdated. */
  placementVersion: number;
  createdAt: Date;
  updatedAt: Date;
}
