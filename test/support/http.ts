import request, { Response } from 'supertest';
import type { Server } from 'node:http';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One authenticated call; the response body is parsed whatever the content type. */
export async function call(server: Server, method: Method, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  let req = request(server)[method](path);
  if (token !== undefined) req = req.set('Authorization', `Bearer ${token}`);
  for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
  if (body !== undefined) req = req.send(body as object);
  return req;
}

export function expectProblem(response: Response, status: number, code?: string): void {
  expect({ status: response.status, type: response.headers['content-type'] }).toEqual({
    status,
    type: expect.stringMatching(/^application\/problem\+json/),
  });
  const body = typeof response.body === 'object' && Object.keys(response.body).length ? response.body : JSON.parse(response.text);
  expect(body.status).toBe(status);
  if (code) expect(body.code).toBe(code);
}
