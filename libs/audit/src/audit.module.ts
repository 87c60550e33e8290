import { BulkheadConfig } from '@bulkhead/config';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { AuditKeys } from './audit-key-file';
import { AuditIntentGuard } from './audit-intent.guard';
import { AuditTrail } from './audit-trail';
import { AuditVerifier } from './audit-verifier';
import { AuditWriteHook } from './audit-write.hook';
import { TenantKeyring } from './tenant-keyring';

/** The audit trail in every app; on HTTP it also names each request for its entries. */
@Module({
  providers: [
    { provide: AuditKeys, inject: [BulkheadConfig], useFactory: (config: BulkheadConfig) => AuditKeys.load(config) },
    TenantKeyring,
    AuditTrail,
    AuditWriteHook,
    AuditVerifier,
    { provide: APP_GUARD, useClass: AuditIntentGuard },
  ],
  exports: [AuditTrail, AuditKeys, TenantKeyring, AuditVerifier],
})
export class AuditModule {}
