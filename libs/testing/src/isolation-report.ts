export type CaseKind =
  /** A's token on B's resource, compared with a random id. */
  | 'foreign-id'
  /** A's list, unfiltered: none of B's ids. */
  | 'list'
  /** A's list filtered or paged by one of B's ids: none of B's ids. */
  | 'list-filter'
  /** A tenant id added to a valid body: refused, nothing written. */
  | 'body-tenant'
  /** A tenant id in the query: refused or ignored, never honoured. */
  | 'query-tenant'
  /** A tenant id in the tenant header: refused. */
  | 'header-tenant'
  /** A body reference pointing at B's resource, compared with a random id. */
  | 'foreign-reference';

export interface IsolationCase {
  kind: CaseKind;
  operation: string;
  description: string;
  /** Why the case failed; empty when it passed. */
  problems: string[];
}

export interface IsolationReport {
  /** Every operation the run covered, with its number of cases. */
  operations: Array<{ key: string; cases: number }>;
  routes: number;
  cases: number;
  casesByKind: Record<CaseKind, number>;
  failures: IsolationCase[];
}

/** Thrown when the kit cannot exercise a route: a route it cannot handle fails the run, it is never skipped. */
export class IsolationKitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IsolationKitError';
  }
}

/** Throws one error listing every failed case, for a test to call after the run. */
export function assertIsolated(report: IsolationReport): void {
  if (!report.failures.length) return;
  const lines = report.failures.map((failure) => `- [${failure.kind}] ${failure.operation}: ${failure.description}\n    ${failure.problems.join('\n    ')}`);
  throw new Error(`${report.failures.length} of ${report.cases} isolation cases failed:\n${lines.join('\n')}`);
}
