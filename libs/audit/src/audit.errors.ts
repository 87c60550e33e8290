import { ProblemError } from '@bulkhead/problem';

/** Same answer whether the grant never existed or belongs to another tenant. */
export class ImpersonationGrantNotFoundProblem extends ProblemError {
  constructor() {
    super(404, 'impersonation_grant_not_found', 'Impersonation grant not found', 'No impersonation grant with that id exists for this tenant.');
  }
}
