import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ApiRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
}

export interface ApiResponse {
  status: number;
  contentType: string;
  headers: Record<string, string>;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * Real HTTP against the application: a base URL, or a Node server (an un-started Nest app's
 * `getHttpServer()` is listened on an ephemeral port and closed again by `close`).
 */
export class ApiClient {
  private constructor(
    private readonly baseUrl: string,
    private readonly stop?: () => Promise<void>,
  ) {}

  static async connect(target: Server | string): Promise<ApiClient> {
    if (typeof target === 'string') return new ApiClient(target.replace(/\/$/, ''));
    if (target.listening) return new ApiClient(`http://127.0.0.1:${(target.address() as AddressInfo).port}`);
    await new Promise<void>((resolve, reject) => {
      target.once('error', reject);
      target.listen(0, '127.0.0.1', () => {
        target.off('error', reject);
        resolve();
      });
    });
    const stop = () => new Promise<void>((resolve) => target.close(() => resolve()));
    return new ApiClient(`http://127.0.0.1:${(target.address() as AddressInfo).port}`, stop);
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const query = request.query && Object.keys(request.query).length ? `?${new URLSearchParams(request.query).toString()}` : '';
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json, */*', ...request.headers };
    if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    const response = await fetch(`${this.baseUrl}${request.path}${query}`, {
      method: request.method.toUpperCase(),
      headers,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
    });
    const text = await response.text();
    const contentType = response.headers.get('content-type') ?? '';
    let json: unknown;
    if (/json/.test(contentType) && text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: response.status, contentType, headers: Object.fromEntries(response.headers.entries()), text, json };
  }

  async close(): Promise<void> {
    await this.stop?.();
  }
}
