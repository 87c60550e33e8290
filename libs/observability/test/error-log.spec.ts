import { spawn } from 'node:child_process';
import { compiledProcess } from '../../../test/support/platform-build';
import { errorLogSerializer } from '../src/error-log.serializer';

/** What the apps' log lines say of a failed statement or Redis command. */
describe('error log lines', () => {
  let lines: Array<Record<string, any>> = [];

  beforeAll(async () => {
    const probe = compiledProcess('libs/observability/test/error-log-probe.ts');
    const { stdout, status, stderr } = await new Promise<{ stdout: string; stderr: string; status: number | null }>((resolve) => {
      const child = spawn(process.execPath, probe.args, { env: { ...process.env, ...probe.env, LOG_LEVEL: 'info' } });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('exit', (code) => resolve({ stdout: out, stderr: err, status: code }));
    });
    expect({ status, stderr }).toEqual({ status: 0, stderr: '' });
    lines = stdout
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line));
  }, 120_000);

  it('never carry the values a failed statement or command was given', () => {
    expect(lines.length).toBe(5);
    for (const line of lines) {
      const text = JSON.stringify(line);
      expect(text).not.toContain('alice');
      expect(text).not.toContain('tenant-secret-key');
    }
  });

  it('keep what finds the fault: the class, message, stack, SQLSTATE and constraint, the Redis command', () => {
    const statements = lines.filter((line) => line.err?.type === 'QueryFailedError');
    expect(statements).toHaveLength(4);
    for (const line of statements) {
      expect(line.err.message).toBe('duplicate key value violates unique constraint "probe_customers_email_key"');
      expect(line.err.stack).toContain('QueryFailedError');
      expect(line.err).toMatchObject({ code: '23505', constraint: 'probe_customers_email_key', table: 'probe_customers' });
      expect(line.err.driverError).toMatchObject({ code: '23505', constraint: 'probe_customers_email_key' });
      expect(line.err).not.toHaveProperty('parameters');
      expect(line.err).not.toHaveProperty('query');
      expect(line.err.driverError).not.toHaveProperty('detail');
    }
    const redis = lines.find((line) => line.msg === 'job enqueue failed');
    expect(redis?.err).toMatchObject({ type: 'ReplyError', message: 'probe refused', command: { name: 'eval' } });
    expect(redis?.err.command).not.toHaveProperty('args');
  });

  it('cut data however deep an error nests it, and leave values such as dates whole', () => {
    const at = new Date('2026-11-28T00:00:00Z');
    const deep = Object.assign(new Error('outer'), { at, level1: { level2: { level3: { level4: { level5: { email: 'alice@example.com' } } } } }, inner: { detail: 'alice' } });
    const line = JSON.stringify(errorLogSerializer(deep));
    expect(line).not.toContain('alice');
    expect(JSON.parse(line)).toMatchObject({ message: 'outer', at: at.toISOString(), inner: {} });
  });
});
