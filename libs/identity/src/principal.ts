import type { IncomingHttpHeaders } from 'node:http';

/** The verified caller. Built only from a token whose signature, issuer, audience and lifetime checked out. */
export interface Principal {
  readonly subject: string;
  /** The tenant claim, if the token carries one; it still has to pass the tenant guard. */
  readonly tenantId?: string;
  readonly scopes: readonly string[];
  readonly operator: boolean;
}

/** What the access chain reads and writes on a request, whatever the HTTP adapter. */
export interface AuthenticatedRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly id?: unknown;
  readonly hostname?: string;
  /** Node's request: its `rawHeaders` keep every copy of a header that `headers` folds into one. */
  readonly raw?: { readonly rawHeaders: readonly string[]; readonly url?: string };
  /** Set by `AuthenticationGuard` once the token verified. */
  user?: Principal;
}
