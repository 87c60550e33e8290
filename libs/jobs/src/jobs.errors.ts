import { ProblemError } from '@bulkhead/problem';

export class JobBacklogFullProblem extends ProblemError {
  constructor() {
    super(429, 'job_backlog_full', 'Job backlog full', 'This tenant has too many jobs waiting; try again when some have finished.', {
      retryAfterSeconds: 30,
    });
  }
}

export class JobsUnavailableProblem extends ProblemError {
  constructor() {
    super(503, 'jobs_unavailable', 'Background jobs unavailable', 'The job queue cannot be reached right now; nothing was enqueued.', {
      retryAfterSeconds: 5,
    });
  }
}
