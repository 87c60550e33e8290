import { AUDIT_FEATURE } from '@bulkhead/audit';
import { LIFECYCLE_FEATURE } from '@bulkhead/lifecycle';
import { PROBLEM_OBSERVER } from '@bulkhead/problem';
import { Module } from '@nestjs/common';
import { API_ACCESS, apiImports } from '../../apps/api/src/api.module';
import { DOMAINS } from '../../apps/domains';

/**
 * The production API module minus the audit feature: the baseline of the audit benchmark. The
 * lifecycle goes too, as it imports the audit module (it records every step), which would bring
 * the write hook back; it adds nothing to the measured route.
 */
const WITHOUT_AUDIT = DOMAINS.filter((domain) => domain !== AUDIT_FEATURE && domain !== LIFECYCLE_FEATURE);

@Module({
  imports: apiImports(API_ACCESS, WITHOUT_AUDIT),
  // No observer: the problem filter answers and records nothing.
  providers: [{ provide: PROBLEM_OBSERVER, useValue: undefined }],
})
export class NoAuditApiModule {}
