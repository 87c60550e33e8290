/** An answer of the API that was not 2xx: its problem+json code and detail when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
  ) {
    super(`${status} ${code}: ${detail}`);
  }
}

type Listener = () => void;

/**
 * The operator API, called with the operator's own bearer token. The token lives in this
 * object only: never in localStorage, sessionStorage or a cookie, so a reload or a closed tab
 * ends the session and nothing on disk can be stolen.
 */
export class OperatorApi {
  private token: string | undefined;
  private subjectName = '';
  private readonly onLogout: Listener[] = [];

  get signedIn(): boolean {
    return this.token !== undefined;
  }

  get subject(): string {
    return this.subjectName;
  }

  signIn(token: string): void {
    this.token = token;
    this.subjectName = subjectOf(token);
  }

  signOut(): void {
    this.token = undefined;
    this.subjectName = '';
    for (const listener of this.onLogout) listener();
  }

  whenSignedOut(listener: Listener): void {
    this.onLogout.push(listener);
  }

  get<T>(path: string, headers: Record<string, string> = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, headers);
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  async request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    if (!this.token) throw new ApiError(401, 'signed_out', 'Sign in first.');
    const response = await fetch(path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
    });
    const text = await response.text();
    const data = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const problem = (data ?? {}) as { code?: string; detail?: string; title?: string };
      // An expired or revoked token: back to the login, whatever page asked.
      if (response.status === 401) this.signOut();
      throw new ApiError(response.status, problem.code ?? 'error', problem.detail ?? problem.title ?? response.statusText);
    }
    return data as T;
  }
}

/** The token's `sub`, for the header; read only for display (the API verifies the token). */
function subjectOf(token: string): string {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload)) as { sub?: unknown };
    return typeof claims.sub === 'string' ? claims.sub : '';
  } catch {
    return '';
  }
}

export const api = new OperatorApi();

/** A query string of the values that are set. */
export function query(values: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(values)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
