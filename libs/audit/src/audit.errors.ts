import { TenantErasedProblem } from '@bulkhead/control-plane';
import { ProblemError } from '@bulkhead/problem';

/** Same answer whether the grant never existed or belongs to another tenant. */
export class ImpersonationGrantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'impersonation_grant_not_found', 'Impersonation grant not found', 'No impersonation grant with that id exists for this tenant.');
  }
}

/** A tenant erased for good: its trail, its grants and its key went with its data (see its erasure certificate). */
export class TenantTrailErasedProblem extends TenantErasedProblem {
  constructor() {
    super("The tenant was erased: its audit trail and impersonation grants were erased with its data; its erasure certificate remains.");
  }
}

/**
 * A tenant still provisioning (its onboarding not run yet, or failed): its schema or database may
 * not exist yet, so it has no trail or grants to read or write. Its tokens are refused meanwhile,
 * so a grant for it could not be used either.
 */
export class TenantTrailUnavailableProblem extends ProblemError {
  constructor() {
    super(409, 'tenant_trail_unavailable', 'Tenant trail unavailable', 'The tenant is still provisioning: its audit trail and impersonation grants exist once it is active.');
  }
}

/** The operator API checks chains up to AUDIT_VERIFY_HTTP_MAX_ENTRIES long; a longer one is the CLI's. */
export class AuditChainTooLongProblem extends ProblemError {
  constructor(entries: bigint, max: number) {
    super(422, 'audit_chain_too_long', 'Audit chain too long to verify here', `The chain holds ${entries} entries, more than the ${max} a request verifies (AUDIT_VERIFY_HTTP_MAX_ENTRIES); run \`npm run bulkhead -- audit verify --tenant <id>\` instead.`, {
      entries: Number(entries),
      maxEntries: max,
    });
  }
}

/** One verification at a time per API process: each holds four owner connections for its length. */
export class AuditVerifyBusyProblem extends ProblemError {
  constructor() {
    super(429, 'audit_verify_busy', 'An audit verification is running', 'This API instance is verifying a chain already; retry in a few seconds.', { retryAfterSeconds: 5 });
  }
}
