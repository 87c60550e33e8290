import { AuditModule } from '@bulkhead/audit';
import { TenantMoverModule } from '@bulkhead/tenant-moves';
import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditLifecycleHandler } from './events/audit-lifecycle.handler';
import { LifecycleOutbox } from './events/lifecycle-outbox';
import { FleetAdminController } from './fleet/fleet.admin.controller';
import { LifecycleAdminController } from './lifecycle.admin.controller';
import { LifecycleService } from './lifecycle.service';
import { LifecycleStore } from './lifecycle.store';
import { OffboardingReactivationVeto } from './offboarding/offboarding-reactivation.veto';
import { OffboardingSteps } from './offboarding/offboarding.steps';
import { FormerPlacements } from './offboarding/former-placements';
import { PlacementData } from './offboarding/placement-data';
import { RedisTenantKeys } from './offboarding/redis-tenant-keys';
import { TenantJobRecordsEraser } from './offboarding/tenant-job-records.eraser';
import { ControlPlaneDnsRegistrar, DNS_REGISTRAR } from './onboarding/dns-registrar';
import { IDENTITY_LINKER, RegistryIdentityLinker } from './onboarding/identity-linker';
import { OnboardingSteps } from './onboarding/onboarding.steps';
import { LifecycleJobHandler } from './saga/lifecycle.job';
import { SagaDefinitions } from './saga/saga-definitions';
import { SagaLedger } from './saga/saga.ledger';
import { SagaRunner } from './saga/saga.runner';
import { SagaStarter } from './saga/saga-starter';
import { SignupController } from './signup/signup.controller';
import { SignupRateLimiter } from './signup/signup-rate-limiter';
import { StorageOperations } from './warm-pool/storage-operations';
import { WarmPool } from './warm-pool/warm-pool';

/**
 * The tenant lifecycle: signup and operator onboarding, the saga ledger and its runner (a
 * platform job in the worker), the warm pool, offboarding. The worker adds `LifecycleSweeper`.
 */
@Module({
  imports: [DiscoveryModule, AuditModule, TenantMoverModule],
  controllers: [SignupController, LifecycleAdminController, FleetAdminController],
  providers: [
    LifecycleStore,
    SagaLedger,
    SagaRunner,
    SagaDefinitions,
    SagaStarter,
    LifecycleJobHandler,
    LifecycleService,
    OnboardingSteps,
    OffboardingSteps,
    OffboardingReactivationVeto,
    PlacementData,
    FormerPlacements,
    RedisTenantKeys,
    TenantJobRecordsEraser,
    StorageOperations,
    WarmPool,
    LifecycleOutbox,
    AuditLifecycleHandler,
    SignupRateLimiter,
    { provide: DNS_REGISTRAR, useClass: ControlPlaneDnsRegistrar },
    { provide: IDENTITY_LINKER, useClass: RegistryIdentityLinker },
  ],
  exports: [LifecycleService, SagaRunner, SagaLedger, WarmPool, LifecycleOutbox, LifecycleStore, SagaStarter],
})
export class LifecycleModule {}
