/**
 * A lib that fences tenants for reasons of its own (the lifecycle's offboarding) says here when
 * lifting a suspension would undo its fence: the registry knows statuses, not why a tenant has one.
 */
export interface ReactivationVeto {
  /** Why the suspended tenant must stay suspended, or undefined to let it go. */
  reasonToRefuse(tenantId: string): Promise<string | undefined>;
}
