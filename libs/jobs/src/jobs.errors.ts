import { ProblemError } from '@bulkhead/problem';

export class JobBacklogFullProblem extends ProblemError {
  constructor() {
    super(429, 'job_backlog_full', 'Job backlog full', 'This tenant has too many jobs waiting; try again when some have finished.', {
      retryAfterSeconds: 30,
    });
  }
}

export class UnknownJobProblem extends ProblemError {
  constructor(name: string) {
    super(500, 'unknown_job', 'Unknown job', `No handler is registered for job ${name}.`);
  }
}
