import { BulkheadConfig } from '@bulkhead/config';
import { attachInterceptor } from '@bulkhead/domain-kit';
import { OPERATOR_ROUTE } from '@bulkhead/identity';
import { Global, Module } from '@nestjs/common';
import { PROBLEM_OBSERVER } from '@bulkhead/problem';
import { IMPERSONATION_VERIFIER } from '@bulkhead/tenancy';
import { ImpersonationService } from './impersonation.service';
import { APP_GUARD, ModulesContainer } from '@nestjs/core';
import { AuditAdminController } from './audit.admin.controller';
import { AuditController } from './audit.controller';
import { AuditReader } from './audit-reader';
import { QueryAuditor } from './query-auditor';
import { CryptoShredder } from './crypto-shredder';
import { OperatorAuditInterceptor } from './operator-audit.interceptor';
import { RefusalRecorder } from './refusal.recorder';
import { AuditKeys } from './audit-key-file';
import { AuditIntentGuard } from './audit-intent.guard';
import { AuditChainer } from './audit-chainer';
import { JobRunRecorder } from './job-run.recorder';
import { AuditTrail } from './audit-trail';
import { AuditVerifier } from './audit-verifier';
import { AuditVerifyRunner } from './audit-verify.runner';
import { AuditWriteHook } from './audit-write.hook';
import { TenantKeyring } from './tenant-keyring';

/**
 * The audit trail in every app; on HTTP it also names each request for its entries. Global, so the
 * tenancy lib's guard finds its impersonation verifier and the problem filter its observer.
 */
@Global()
@Module({
  controllers: [AuditController, AuditAdminController],
  providers: [
    AuditReader,
    QueryAuditor,
    CryptoShredder,
    ImpersonationService,
    { provide: IMPERSONATION_VERIFIER, useExisting: ImpersonationService },
    RefusalRecorder,
    { provide: PROBLEM_OBSERVER, useExisting: RefusalRecorder },
    OperatorAuditInterceptor,
    { provide: AuditKeys, inject: [BulkheadConfig], useFactory: (config: BulkheadConfig) => AuditKeys.load(config) },
    TenantKeyring,
    AuditTrail,
    AuditChainer,
    JobRunRecorder,
    AuditWriteHook,
    AuditVerifier,
    AuditVerifyRunner,
    { provide: APP_GUARD, useClass: AuditIntentGuard },
  ],
  exports: [AuditTrail, AuditChainer, AuditKeys, TenantKeyring, AuditVerifier, RefusalRecorder, PROBLEM_OBSERVER, ImpersonationService, IMPERSONATION_VERIFIER, CryptoShredder, QueryAuditor],
})
export class AuditModule {
  constructor(modules: ModulesContainer, operatorAudit: OperatorAuditInterceptor) {
    // Operator routes only, attached rather than global: tenant routes never pay for it.
    attachInterceptor(modules, operatorAudit, (handler, controller) => Reflect.getMetadata(OPERATOR_ROUTE, handler) === true || Reflect.getMetadata(OPERATOR_ROUTE, controller) === true);
  }
}
