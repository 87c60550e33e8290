import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { TenantRecord } from '@bulkhead/control-plane';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { call, expectProblem } from './support/http';
import { createTenant, operatorToken, startTestApi, TestApi, tokenFor } from './support/test-app';

/** Every kind of bad input is a clear 4xx problem+json, never a 500 and never a partial write. */
describe('bad input', () => {
  let api: TestApi;
  let tenant: TenantRecord;
  let token: string;
  let customerId: string;

  beforeAll(async () => {
    api = await startTestApi();
    tenant = await createTenant(api);
    token = tokenFor(api, tenant);
    customerId = (await call(api.server, 'post', '/v1/customers', token, { email: 'keep@x.test', name: 'Keep' })).body.id;
  });
  afterAll(() => api.close());

  /** Writes bytes on a fresh connection and reads until the server closes it: what Node's own parser refuses never reaches express. */
  async function rawExchange(bytes: string | Buffer, halfClose = true): Promise<{ status: number; headers: Record<string, string>; body: string }> {
    if (!api.server.listening) await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    const { port } = api.server.address() as AddressInfo;
    const text = await new Promise<string>((resolve, reject) => {
      // Half-closing at once suits what the parser refuses; a request to be served keeps its side open (`Connection: close` ends it).
      const socket = connect(port, '127.0.0.1', () => (halfClose ? socket.end(bytes) : socket.write(bytes)));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    const [head, body = ''] = text.split('\r\n\r\n');
    const [statusLine, ...lines] = head.split('\r\n');
    const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
    return { status: Number(statusLine.split(' ')[1]), headers, body };
  }

  const raw = (path: string, body: string | Buffer, type = 'application/json') =>
    request(api.server)
      .post(path)
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', type)
      // Bytes as they are: superagent would send a Buffer under a JSON type as the JSON of a Buffer.
      .serialize((bytes: string) => bytes)
      .send(body);

  async function counts(): Promise<[number, number]> {
    const customers = await call(api.server, 'get', '/v1/customers?limit=100', token);
    const orders = await call(api.server, 'get', '/v1/orders?limit=100', token);
    return [customers.body.items.length, orders.body.items.length];
  }

  it('malformed JSON is 400', async () => {
    for (const body of ['{bad', '{"email": "a@b.test",}', '', 'null', '[1,2]', '"just a string"', '{"__proto__": {"admin": true}, "email": 1}']) {
      const response = await raw('/v1/customers', body);
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('a body using __proto__, constructor or prototype as a key is 400, not a write with the key dropped', async () => {
    for (const key of ['__proto__', 'constructor', 'prototype']) {
      const body = `{"email":"proto-${key}@x.test","name":"P","${key}":{"isAdmin":true}}`;
      const created = await raw('/v1/customers', body);
      expectProblem(created, 400, 'bad_request');
      expect(created.body.detail).toContain(key);
      // Nested too, and on an admin route.
      expectProblem(await raw('/v1/customers', `{"email":"n@x.test","name":{"${key}":1}}`), 400, 'bad_request');
    }
    const policy = await request(api.server)
      .put(`/v1/admin/jobs/tenants/${tenant.id}/policy`)
      .set('Authorization', `Bearer ${operatorToken(api)}`)
      .set('Content-Type', 'application/json')
      .serialize((bytes: string) => bytes)
      .send('{"weight":2,"__proto__":{"x":1}}');
    expectProblem(policy, 400, 'bad_request');
  });

  it('an empty body under a JSON content type is no body: served where a route takes none, a validation error where it needs one', async () => {
    const other = tokenFor(api, await createTenant(api));
    const exported = await request(api.server).post('/v1/exports').set('Authorization', `Bearer ${other}`).set('Content-Type', 'application/json').send('');
    expect(exported.status).toBe(202);
    const missing = await request(api.server).post('/v1/customers').set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send('');
    expect(missing.status).toBe(400);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('an oversize body is 413', async () => {
    const response = await raw('/v1/customers', JSON.stringify({ email: 'big@x.test', name: 'x'.repeat(200 * 1024) }));
    expectProblem(response, 413, 'payload_too_large');
  });

  it('JSON named with parameters is JSON: a charset of UTF-8 is accepted, any other refused for its encoding', async () => {
    // Another tenant's writes: this tenant's must stay as they are (the last test counts them).
    const other = tokenFor(api, await createTenant(api));
    const send = (method: 'post' | 'patch', path: string, body: unknown, type: string) =>
      request(api.server)[method](path).set('Authorization', `Bearer ${other}`).set('Content-Type', type).send(JSON.stringify(body));
    let n = 0;
    let created = '';
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/json ; charset=utf8', 'application/json; foo=bar']) {
      const response = await send('post', '/v1/customers', { email: `charset-${n++}@x.test`, name: 'Charset' }, type);
      expect({ type, status: response.status }).toEqual({ type, status: 201 });
      created = response.body.id;
    }
    expect((await send('patch', `/v1/customers/${created}`, { name: 'Renamed' }, 'application/merge-patch+json; charset=utf-8')).status).toBe(200);
    for (const type of ['application/json; charset=utf-16', 'application/json; charset="latin1"']) {
      const response = await raw('/v1/customers', JSON.stringify({ email: 'enc@x.test', name: 'Enc' }), type);
      expectProblem(response, 415, 'unsupported_media_type');
      expect(response.body.detail).toMatch(/send UTF-8/);
    }
    expectProblem(await raw('/v1/customers', JSON.stringify({ email: 'seq@x.test', name: 'Seq' }), 'application/json-seq'), 415, 'unsupported_media_type');
    // A DELETE's body skips the API's media-type check and reaches the parser's own pattern.
    for (const type of ['application/json-seq', 'application/jsonx', 'text/json']) {
      const response = await request(api.server).delete(`/v1/customers/${randomUUID()}`).set('Authorization', `Bearer ${other}`).set('Content-Type', type).send('{}');
      expectProblem(response, 415, 'unsupported_media_type');
    }
  });

  it('a body that is not JSON is 415', async () => {
    expectProblem(await raw('/v1/customers', 'email=a@b.test&name=x', 'application/x-www-form-urlencoded'), 415, 'unsupported_media_type');
    expectProblem(await raw('/v1/customers', '<xml/>', 'text/xml'), 415, 'unsupported_media_type');
  });

  it.each([
    ['email not an email', { email: 'nope', name: 'x' }, 'email'],
    ['email wrong type', { email: 42, name: 'x' }, 'email'],
    ['name empty', { email: 'e1@x.test', name: '' }, 'name'],
    ['name too long', { email: 'e2@x.test', name: 'x'.repeat(201) }, 'name'],
    ['name an object', { email: 'e3@x.test', name: { $gt: '' } }, 'name'],
    ['missing fields', {}, 'email'],
    ['unknown field', { email: 'e4@x.test', name: 'x', role: 'admin' }, 'role'],
  ])('customer: %s is 400 with field details', async (_name, body, field) => {
    const response = await call(api.server, 'post', '/v1/customers', token, body);
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it.each([
    ['negative total', { totalCents: -1, currency: 'EUR' }, 'totalCents'],
    ['fractional total', { totalCents: 1.5, currency: 'EUR' }, 'totalCents'],
    ['total as a string', { totalCents: '100', currency: 'EUR' }, 'totalCents'],
    ['huge total', { totalCents: 1e20, currency: 'EUR' }, 'totalCents'],
    ['bad currency', { totalCents: 1, currency: 'euro' }, 'currency'],
    ['bad status', { totalCents: 1, currency: 'EUR', status: 'stolen' }, 'status'],
    ['customerId not a uuid', { totalCents: 1, currency: 'EUR', customerId: "1' OR '1'='1" }, 'customerId'],
  ])('order: %s is 400 with field details', async (_name, body, field) => {
    const response = await call(api.server, 'post', '/v1/orders', token, { customerId, ...body });
    expectProblem(response, 400, 'validation_failed');
    expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('non-uuid ids and cursors are 400 on every route', async () => {
    for (const [method, path] of [
      ['get', '/v1/customers/123'],
      ['patch', '/v1/customers/..%2f..%2fetc'],
      ['delete', "/v1/customers/'%20OR%201=1"],
      ['get', '/v1/orders/not-a-uuid'],
      ['get', '/v1/orders?after=zzz'],
      ['get', '/v1/orders?customerId=1'],
      ['get', '/v1/customers?limit=1000'],
      ['get', '/v1/customers?limit=abc'],
      ['get', '/v1/customers?unknown=1'],
      // Number() would read these as 10, 16, 5 and 5.
      ['get', '/v1/customers?limit=1e1'],
      ['get', '/v1/customers?limit=0x10'],
      ['get', '/v1/customers?limit=%205'],
      ['get', '/v1/customers?limit=05'],
    ] as const) {
      const response = await call(api.server, method, path, token, method === 'patch' ? { name: 'x' } : undefined);
      expectProblem(response, 400);
    }
  });

  it('a query parameter a route does not read is 400, like an unknown filter on a list', async () => {
    for (const [path, asOperator] of [
      [`/v1/customers/${customerId}?bogus=1`, false],
      ['/v1/flags?tenant=' + randomUUID(), false],
      ['/v1/admin/connections?verbose=1', true],
      [`/v1/admin/tenants/${tenant.id}?include=secrets&x=1`, true],
    ] as const) {
      const response = await call(api.server, 'get', path, asOperator ? operatorToken(api) : token);
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors[0].messages[0]).toMatch(/should not exist/);
    }
    // A bare `?` names no parameter; routes with a query DTO keep refusing through it.
    expect((await call(api.server, 'get', `/v1/customers/${customerId}?`, token)).status).toBe(200);
    // A public API route is no exception: signup takes its tier from its body, never the query.
    const signup = await call(api.server, 'post', '/v1/signup?tier=enterprise', undefined, { slug: 'x' });
    expectProblem(signup, 400, 'validation_failed');
    expect(signup.body.errors.map((e: { field: string }) => e.field)).toEqual(['tier']);
    // Routes outside the API are left alone: the console reads its own query string (an OpenID
    // Connect redirect), and a monitor's cache-buster must not fail a health probe.
    expect((await request(api.server).get('/console?code=abc&state=def')).status).not.toBe(400);
    expect((await request(api.server).get('/health/live?_=1732700000')).status).toBe(200);
  });

  it('hostile strings are stored literally, not interpreted', async () => {
    const name = `Robert'); DROP TABLE customers;-- \u0000-free ${'\u202e'}`;
    const created = await call(api.server, 'post', '/v1/customers', token, { email: 'bobby@x.test', name: name.replace('\u0000', '') });
    expect(created.status).toBe(201);
    const got = await call(api.server, 'get', `/v1/customers/${created.body.id}`, token);
    expect(got.body.name).toBe(name.replace('\u0000', ''));
    await call(api.server, 'delete', `/v1/customers/${created.body.id}`, token);
  });

  it('a NUL byte in a string is a 4xx, not a database error', async () => {
    const response = await call(api.server, 'post', '/v1/customers', token, { email: 'nul@x.test', name: 'a\u0000b' });
    expectProblem(response, 400, 'bad_request');
    expect(response.body.detail).toMatch(/NUL/);
  });

  it('a lone UTF-16 surrogate in a string is a 4xx, not a validator crash', async () => {
    const customer = `{"email":"\\ud800","name":"x"}`;
    expectProblem(await raw('/v1/customers', customer), 400, 'bad_request');
    const patched = await request(api.server).patch(`/v1/customers/${customerId}`).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/json').send(customer);
    expectProblem(patched, 400, 'bad_request');
    const named = await raw('/v1/customers', `{"email":"lone@x.test","name":"a\\udc00b"}`);
    expectProblem(named, 400, 'bad_request');
    expect(named.body.detail).toMatch(/surrogate/);
    // A well-formed pair is ordinary text.
    const paired = await raw('/v1/customers', `{"email":"pair@x.test","name":"\\ud83d\\ude00"}`);
    expect(paired.status).toBe(201);
    expect(paired.body.name).toBe('\u{1F600}');
    await call(api.server, 'delete', `/v1/customers/${paired.body.id}`, token);
  });

  it('unstorable text without a \\u escape: a raw NUL byte is not JSON, and bytes that are not UTF-8 are refused however the body is framed', async () => {
    // Such text can come only from escapes: these are the bodies that could otherwise carry it.
    const nul = await raw('/v1/customers', Buffer.from('{"email":"raw-nul@x.test","name":"a\u0000b"}', 'latin1'));
    expectProblem(nul, 400, 'bad_request');
    expect(nul.body.detail).toMatch(/not valid JSON/);
    // U+D800 as UTF-8-style bytes (CESU-8), and an overlong "/": with a Content-Length (the
    // decoder's U+FFFD used to make it a length mismatch) and chunked (it used to be stored as U+FFFD).
    for (const bad of [Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xc0, 0xaf])]) {
      const json = Buffer.concat([Buffer.from('{"email":"cesu@x.test","name":"a'), bad, Buffer.from('b"}')]);
      const sized = await raw('/v1/customers', json);
      expectProblem(sized, 400, 'bad_request');
      expect(sized.body.detail).toMatch(/not valid UTF-8/);
      const head = `POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`;
      const chunked = await rawExchange(Buffer.concat([Buffer.from(`${head}${json.length.toString(16)}\r\n`), json, Buffer.from('\r\n0\r\n\r\n')]), false);
      expect({ status: chunked.status, detail: (JSON.parse(chunked.body) as { detail: string }).detail }).toEqual({ status: 400, detail: expect.stringMatching(/not valid UTF-8/) });
    }
  });

  it('a compressed body is 415, an identity one is read', async () => {
    const body = JSON.stringify({ email: 'gz@x.test', name: 'Gz' });
    const gzipped = await request(api.server)
      .post('/v1/customers')
      .set('Authorization', `Bearer ${token}`)
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      // Bytes as they are (the type says string; superagent sends what it is given).
      .serialize((bytes: string) => bytes)
      .send(gzipSync(body));
    expectProblem(gzipped, 415, 'unsupported_media_type');
    expect(gzipped.body.detail).toMatch(/Content-Encoding/);
    const other = tokenFor(api, await createTenant(api));
    const identity = await request(api.server).post('/v1/customers').set('Authorization', `Bearer ${other}`).set('Content-Type', 'application/json').set('Content-Encoding', 'identity').send(body);
    expect(identity.status).toBe(201);
  });

  it('a body nested more than 64 levels deep is 400 before anything recurses into it; 64 levels and brackets inside strings are not refused for depth', async () => {
    // 2,500 levels passed the reviver and 5,000 overflowed its stack; neither may reach validation.
    for (const depth of [65, 2500, 5000]) {
      for (const body of [`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`, `{"email":"deep@x.test","name":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`]) {
        const response = await raw('/v1/customers', body);
        expectProblem(response, 400, 'bad_request');
        expect(response.body.detail).toMatch(/nested more than 64 levels/);
      }
    }
    const atLimit = await raw('/v1/customers', `{"email":"deep@x.test","name":${'['.repeat(63)}${']'.repeat(63)}}`);
    expectProblem(atLimit, 400, 'validation_failed');
    const bracketed = await raw('/v1/customers', JSON.stringify({ email: 'brackets@x.test', name: `${'[{'.repeat(60)}\\"` }));
    expect(bracketed.status).toBe(201);
    await call(api.server, 'delete', `/v1/customers/${bracketed.body.id}`, token);
  });

  it('an array where an object is expected is 400, not a crash', async () => {
    for (const rateLimit of [[], [{ max: 1, durationMs: 1000 }], 'x', 7]) {
      const response = await call(api.server, 'put', `/v1/admin/jobs/tenants/${tenant.id}/policy`, operatorToken(api), { rateLimit });
      expectProblem(response, 400, 'validation_failed');
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('rateLimit');
    }
    expectProblem(await call(api.server, 'put', `/v1/admin/jobs/tenants/${tenant.id}/policy`, operatorToken(api), { weight: null }), 400, 'validation_failed');
  });

  it('a path segment that is not valid percent-encoding is 400 problem+json', async () => {
    for (const path of ['/v1/customers/%E0%A4%A', '/v1/customers/%ff', '/v1/admin/tenants/%']) {
      const response = await call(api.server, 'get', path, path.includes('admin') ? operatorToken(api) : token);
      expectProblem(response, 400);
    }
  });

  it.each([
    ['a space in the request line', 400, 'GET /v1/customers x HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['a Content-Length that is not a number', 400, 'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}'],
    ['both Content-Length and chunked', 400, 'POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['not HTTP at all', 400, '\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n'],
    ['headers over 16 KB', 431, `GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`],
    ['a URL over 16 KB', 431, `GET /v1/customers?q=${'a'.repeat(20 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`],
  ])("a request Node's HTTP parser refuses (%s) is %i problem+json, then the connection closes", async (_name, status, bytes) => {
    const response = await rawExchange(bytes);
    expect({ status: response.status, type: response.headers['content-type'], connection: response.headers.connection }).toEqual({
      status,
      type: expect.stringMatching(/^application\/problem\+json/),
      connection: 'close',
    });
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    expect(JSON.parse(response.body)).toMatchObject({ status, code: expect.any(String), type: expect.stringMatching(/^https:\/\/bulkhead.dev\/problems\//) });
  });

  it.each([
    ['an HTTP/1.1 request without Host', 400, 'GET /v1/customers HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['a CONNECT request (this is no proxy)', 405, 'CONNECT 127.0.0.1:5432 HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['an Expect other than 100-continue', 417, 'POST /v1/customers HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'],
  ])('a request Node would refuse with an empty body (%s) is %i problem+json', async (_name, status, bytes) => {
    const response = await rawExchange(bytes, false);
    expect({ status: response.status, type: response.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(response.body)).toMatchObject({ status, code: expect.any(String) });
  });

  it('a request pipelined before bytes the parser refuses gets its own answer first: a committed write is never reported as refused', async () => {
    if (!api.server.listening) await new Promise<void>((resolve) => api.server.listen(0, '127.0.0.1', resolve));
    const { port } = api.server.address() as AddressInfo;
    // A tenant of its own: this write is meant to commit, and the others' must not.
    const own = tokenFor(api, await createTenant(api));
    const email = `pipelined-${Date.now()}@x.test`;
    const json = JSON.stringify({ email, name: 'Pipelined' });
    const bytes =
      `POST /v1/customers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${own}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}` +
      'GARBAGE\r\n\r\n';
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
      const chunks: Buffer[] = [];
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
    expect(statuses).toEqual([201, 400]);
    const listed = await request(api.server).get('/v1/customers?limit=100').set('Authorization', `Bearer ${own}`);
    expect(listed.body.items.filter((customer: { email: string }) => customer.email === email)).toHaveLength(1);
  });

  it('an HTTP/1.0 request without Host is served as usual', async () => {
    const response = await rawExchange('GET /v1/customers HTTP/1.0\r\n\r\n', false);
    expect({ status: response.status, type: response.headers['content-type'] }).toEqual({ status: 401, type: expect.stringMatching(/^application\/problem\+json/) });
  });

  it('hostile tenant slugs are refused by the operator API', async () => {
    for (const slug of ['Acme', 'a', 'a--b', '-ab', 'ab-', 'a_b', 'acme; drop schema public', '../etc', 'x'.repeat(41), 'ünïcode']) {
      const response = await call(api.server, 'post', '/v1/admin/tenants', operatorToken(api), { slug, name: 'x', tier: 'free' });
      expectProblem(response, 400, 'validation_failed');
    }
  });

  it('none of the above wrote anything', async () => {
    expect(await counts()).toEqual([1, 0]);
  });
});
