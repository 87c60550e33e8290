import { isInfrastructureFailure } from '@bulkhead/problem';
import { Client } from 'pg';

const url = `postgres://postgres@127.0.0.1:5432/${process.env.BULKHEAD_TEST_DATABASE ?? 'bulkhead_test'}`;

/** What PostgreSQL itself answers, classified: an outage waits, a bug fails. */
describe('isInfrastructureFailure on real server errors', () => {
  let client: Client;
  beforeAll(async () => {
    client = new Client({ connectionString: url });
    await client.connect();
  });
  afterAll(() => client.end());

  const failureOf = (run: () => Promise<unknown>) => run().then(() => undefined, (error: unknown) => error as { code?: string });

  it('is not an outage when a statement is given the wrong number of parameters (08P01, a bug)', async () => {
    const error = (await failureOf(() => client.query('SELECT 1', [1]))) as { code?: string; severity?: string } | undefined;
    expect({ code: error?.code, severity: error?.severity }).toEqual({ code: '08P01', severity: 'ERROR' });
    expect(isInfrastructureFailure(error)).toBe(false);
  });

  it('is an outage when 08P01 comes as FATAL, the connection ended (as PgBouncer ends it when the server behind it is gone)', async () => {
    const victim = new Client({ connectionString: url });
    await victim.connect();
    // The FATAL reaches the running query or the client's error event, depending on timing: both are kept.
    const seen: unknown[] = [];
    victim.on('error', (error) => seen.push(error));
    const running = victim.query('SELECT pg_sleep(0.2)').then(() => undefined, (error: unknown) => seen.push(error));
    // A message type the server does not know: it answers FATAL 08P01 and closes the connection.
    (victim as unknown as { connection: { stream: { write(bytes: Buffer): void } } }).connection.stream.write(Buffer.from([0x7a, 0, 0, 0, 4]));
    await running;
    await new Promise((resolve) => setTimeout(resolve, 100));
    const error = seen.find((candidate) => (candidate as { code?: string }).code === '08P01') as { code?: string; severity?: string } | undefined;
    expect({ code: error?.code, severity: error?.severity }).toEqual({ code: '08P01', severity: 'FATAL' });
    expect(isInfrastructureFailure(error)).toBe(true);
    await victim.end().catch(() => undefined);
  });

  it('is an outage when the connection is ended by the server (57P01) or a database refuses connections (53300)', async () => {
    const victim = new Client({ connectionString: url });
    await victim.connect();
    victim.on('error', () => undefined);
    const pid = (await victim.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
    const terminated = await failureOf(() => victim.query('SELECT 1'));
    expect(isInfrastructureFailure(terminated)).toBe(true);
    await victim.end().catch(() => undefined);

    const database = `bh_refusing_${process.pid}`;
    await client.query(`DROP DATABASE IF EXISTS ${database}`);
    await client.query(`CREATE DATABASE ${database} CONNECTION LIMIT 0`);
    try {
      const refused = await failureOf(() => new Client({ connectionString: `postgres://bulkhead_app@127.0.0.1:5432/${database}` }).connect());
      expect(refused?.code).toBe('53300');
      expect(isInfrastructureFailure(refused)).toBe(true);
    } finally {
      await client.query(`DROP DATABASE IF EXISTS ${database}`);
    }
  });
});
