import { Agent, request as httpRequest } from 'node:http';
import type { FuzzRequest } from './request-fuzzer';

export interface FuzzResult {
  request: FuzzRequest;
  status: number;
  contentType: string;
  text: string;
  /** Set when no answer came back (connection reset, timeout). */
  error?: string;
}

export interface SendOptions {
  /** Requests in flight at once (default 32). */
  concurrency?: number;
  /** Per request (default 20 s). */
  timeoutMs?: number;
}

/**
 * Sends raw requests to a base URL over keep-alive connections, `concurrency` at a time, with
 * exactly the bytes, headers and Host given (fetch would refuse or rewrite several of them).
 */
export async function sendFuzzRequests(baseUrl: string, requests: FuzzRequest[], options: SendOptions = {}): Promise<FuzzResult[]> {
  const concurrency = options.concurrency ?? 32;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const results: FuzzResult[] = new Array(requests.length);
  let next = 0;
  const lane = async () => {
    while (next < requests.length) {
      const index = next++;
      results[index] = await sendOne(baseUrl, requests[index], agent, options.timeoutMs ?? 20_000);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return results;
}

function sendOne(baseUrl: string, request: FuzzRequest, agent: Agent, timeoutMs: number): Promise<FuzzResult> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body) headers['content-length'] = request.body.length;
    let client;
    try {
      client = httpRequest({ host: url.hostname, port: url.port, method: request.method, path: request.path, headers, agent, timeout: timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => resolve({ request, status: 0, contentType: '', text: '', error: error.message }));
        response.on('end', () =>
          resolve({ request, status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
        );
      });
    } catch (error) {
      // Node's client refuses some values outright (a character it will not send in a header): a gap in the fuzzer.
      resolve({ request, status: -1, contentType: '', text: '', error: `not sent: ${(error as Error).message}` });
      return;
    }
    client.on('timeout', () => client.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    client.on('error', (error) => resolve({ request, status: 0, contentType: '', text: '', error: error.message }));
    client.end(request.body);
  });
}

/**
 * What is wrong with one answer, or undefined: no 5xx, an answer at all, and every error
 * `application/problem+json` whose body carries the same status and a code.
 */
export function fuzzFailure(result: FuzzResult): string | undefined {
  if (result.error) return `no answer: ${result.error}`;
  if (result.status >= 500) return `${result.status} ${result.text.slice(0, 200)}`;
  if (result.status < 400) return undefined;
  if (!result.contentType.startsWith('application/problem+json')) return `${result.status} as ${result.contentType || 'no content type'}: ${result.text.slice(0, 200)}`;
  if (result.request.method === 'HEAD') return undefined;
  try {
    const body = JSON.parse(result.text) as { status?: unknown; code?: unknown };
    if (body.status !== result.status || typeof body.code !== 'string') return `${result.status} with a problem body saying ${JSON.stringify(body).slice(0, 200)}`;
  } catch {
    return `${result.status} problem+json that is not JSON: ${result.text.slice(0, 200)}`;
  }
  return undefined;
}
