import { ReactivationVeto, TenantAdmin } from '@bulkhead/control-plane';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { SagaDefinitions } from '../saga/saga-definitions';
import { SagaLedger } from '../saga/saga.ledger';

/**
 * An offboarding's fence is a suspension, and a plain reactivation would lift it while the saga
 * runs on: the tenant writes again, those writes miss the export, and the erasure still comes
 * (or, once erasure has begun, a partly erased tenant is served). Restore is the way back; past
 * the point of no return there is none.
 */
@Injectable()
export class OffboardingReactivationVeto implements ReactivationVeto, OnModuleInit {
  constructor(
    private readonly admin: TenantAdmin,
    private readonly ledger: SagaLedger,
    private readonly definitions: SagaDefinitions,
  ) {}

  onModuleInit(): void {
    this.admin.vetoReactivation(this);
  }

  async reasonToRefuse(tenantId: string): Promise<string | undefined> {
    const sagas = await this.ledger.forTenant(tenantId);
    const latest = sagas[sagas.length - 1];
    if (latest?.kind !== 'offboarding') return undefined;
    // A finished saga (succeeded: the tenant is gone, aborted: restored) holds nothing; a compensating
    // one lifts its own fence (TenantAdmin.liftFence) when it gets there, and only if it put it up.
    if (latest.status === 'running') return 'The tenant is being offboarded; restore it (POST /v1/admin/tenants/{id}/restore, `tenant restore`) to bring it back.';
    if (latest.status === 'compensating') return 'The tenant\'s offboarding is being undone; wait for it to end (a suspension the offboarding made is lifted then).';
    if (latest.status === 'failed') {
      const begun = this.definitions.pointOfNoReturn(latest.kind, await this.ledger.steps(latest.id));
      if (begun) return `The tenant's offboarding failed past its point of no return (${begun.irreversible} has begun); retry it to finish the erasure.`;
    }
    return undefined;
  }
}
