import { spawn } from 'node:child_process';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compiledProcess } from '../../../test/support/platform-build';
import { urlWithoutQuery } from '../src/outgoing-url.processor';

interface ExportedSpan {
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string } }>;
}

/** What an outgoing call's span tells the trace collector about the address it called. */
describe('outgoing call spans', () => {
  let server: Server;
  let base = '';
  const exported: string[] = [];
  const called: string[] = [];

  beforeAll(async () => {
    // One server for both: the OTLP collector (/v1/traces) and the service the probe calls.
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (req.url === '/v1/traces') exported.push(body);
        else called.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('keep the path of the address and drop its query string, whose values never reach the collector', async () => {
    const target = `${base}/v1/customers/0190f3d2-0000-7000-8000-000000000001?email=alice%40example.com&search=secret-term`;
    const probe = compiledProcess('libs/tracing/test/outgoing-call-probe.ts');
    const run = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, probe.args, {
        env: { ...process.env, ...probe.env, PROBE_TARGET: target, OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' },
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (status) => resolve({ status, stderr }));
    });
    expect(run).toMatchObject({ status: 0 });
    // The call itself went out whole.
    expect(called).toEqual(['/v1/customers/0190f3d2-0000-7000-8000-000000000001?email=alice%40example.com&search=secret-term']);
    const spans = exported.flatMap((body) =>
      (JSON.parse(body).resourceSpans as Array<{ scopeSpans: Array<{ spans: ExportedSpan[] }> }>).flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
    );
    // SpanKind.CLIENT is 3 in OTLP.
    const outgoing = spans.filter((span) => span.kind === 3);
    expect(outgoing).toHaveLength(1);
    const url = outgoing[0].attributes.find((attribute) => attribute.key === 'url.full')?.value.stringValue;
    expect(url).toBe(`${base}/v1/customers/0190f3d2-0000-7000-8000-000000000001`);
    for (const body of exported) {
      expect(body).not.toContain('alice');
      expect(body).not.toContain('secret-term');
    }
  });

  it.each([
    ['https://billing.example.com/v1/usage?key=k', 'https://billing.example.com/v1/usage'],
    ['http://callee:3001/v1/orders#top', 'http://callee:3001/v1/orders'],
    ['http://callee:3001/?a=b', 'http://callee:3001/'],
    ['http://REDACTED:REDACTED@callee/v1', 'http://REDACTED:REDACTED@callee/v1'],
  ])('gives %s the address %s', (url, kept) => {
    expect(urlWithoutQuery(url)).toBe(kept);
  });
});
