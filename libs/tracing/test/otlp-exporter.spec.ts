import { spawn } from 'node:child_process';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { compiledProcess } from '../../../test/support/platform-build';

interface Received {
  readonly path: string;
  readonly contentType: string;
  readonly body: Buffer;
}

/** The trace exporter each OTLP protocol setting gives, against a stand-in collector. */
describe('OTLP trace export', () => {
  let collector: Server;
  const received: Received[] = [];
  let endpoint = '';

  beforeAll(async () => {
    collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/json' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => collector.close(resolve));
  });
  afterEach(() => {
    received.length = 0;
  });

  /** One span exported by a process of its own (the probe), with these OTLP settings. */
  async function runProbe(name: string, env: Record<string, string> = {}): Promise<{ status: number | null; stderr: string }> {
    const probe = compiledProcess('libs/tracing/test/export-probe.ts');
    const { OTEL_EXPORTER_OTLP_PROTOCOL: _a, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: _b, ...inherited } = process.env;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...probe.args, name], { env: { ...inherited, ...probe.env, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, ...env } });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (status) => resolve({ status, stderr }));
    });
  }

  async function exportOne(name: string, env: Record<string, string> = {}): Promise<Received> {
    const run = await runProbe(name, env);
    expect(run).toMatchObject({ status: 0 });
    expect(received).toHaveLength(1);
    return received[0];
  }

  it('sends protobuf by default', async () => {
    const sent = await exportOne('probe-span-protobuf');
    expect(sent.path).toBe('/v1/traces');
    expect(sent.contentType).toBe('application/x-protobuf');
    // A protobuf string field is its UTF-8 bytes: the span's name is in the body, not as JSON.
    expect(sent.body.includes('probe-span-protobuf')).toBe(true);
    expect(() => JSON.parse(sent.body.toString('utf8'))).toThrow();
  });

  it('sends JSON when OTEL_EXPORTER_OTLP_PROTOCOL (or the traces-only setting) says http/json', async () => {
    const sent = await exportOne('probe-span-json', { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' });
    expect(sent.contentType).toBe('application/json');
    const spans = JSON.parse(sent.body.toString('utf8')).resourceSpans[0].scopeSpans[0].spans as Array<{ name: string }>;
    expect(spans.map((span) => span.name)).toEqual(['probe-span-json']);
  });

  it('refuses a protocol it does not offer rather than exporting nowhere', async () => {
    const run = await runProbe('probe-span-grpc', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/http\/protobuf \(the default\) or http\/json/);
    expect(received).toHaveLength(0);
  });
});
