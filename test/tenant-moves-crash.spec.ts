import { IsolationModel } from '@bulkhead/config';
import { parsePgUrl, withDatabase, withPg } from '@bulkhead/database';
import { ChildProcess, ChildProcessWithoutNullStreams, spawn, StdioOptions } from 'node:child_process';
import { join } from 'node:path';
import { TenantWriter } from './support/move-load';
import { compiledProcess } from './support/platform-build';
import { MovesResumer, TenantMover } from '@bulkhead/tenant-moves';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';
import { eventually, startTestWorker } from './support/test-worker';

const ROOT = join(__dirname, '..');
/** Small batches and a grace period long enough to see every phase from outside. */
const MOVER_ENV = { MOVES_BATCH_ROWS: '5', MOVES_GRACE_MS: '3000', LOG_LEVEL: 'silent' };

/**
 * What the mover that resumes runs with: nothing is watched for a phase any more, so it copies
 * in full batches without resting (the suite's time, not the behaviour under test).
 */
const RESUMER_ENV = { MOVES_BATCH_ROWS: '500', MOVES_DUTY_CYCLE: '1' };

/** The real CLI (`bulkhead tenant move ...`), compiled: each case starts it twice. */
function spawnMover(args: string[], stdio: StdioOptions = 'pipe', env: Record<string, string> = {}): ChildProcess {
  const cli = compiledProcess('apps/cli/src/main.ts');
  return spawn(process.execPath, [...cli.args, ...args], { cwd: ROOT, env: { ...process.env, ...cli.env, ...MOVER_ENV, ...env }, stdio });
}

function startMover(args: string[]): ChildProcess & { errors: string } {
  const child = spawnMover(args, ['ignore', 'ignore', 'pipe']) as ChildProcess & { errors: string };
  child.errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (child.errors += chunk.toString()));
  return child;
}

/** The CLI to the end, without blocking this process: the API under test keeps serving the writer meanwhile. */
function runMover(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnMover(args, 'pipe', RESUMER_ENV) as ChildProcessWithoutNullStreams;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * SIGKILL of the mover (the `bulkhead tenant move` process) at each phase, while the tenant keeps
 * writing through the API; then the same command again resumes it. Every acknowledged write must
 * be there after, none twice, and writes may only ever have waited (a write refused while the
 * registry had not switched yet answers 503 placement_moving and wrote nothing).
 */
describe('tenant moves: SIGKILL of the mover at every phase, then resume', () => {
  let api: TestApi;
  let controlUrl: string;

  beforeAll(async () => {
    compiledProcess('apps/cli/src/main.ts');
    api = await startTestApi();
    controlUrl = withDatabase(api.config.DATABASE_ADMIN_URL, parsePgUrl(api.config.DATABASE_URL).database);
  });
  afterAll(() => api.close());

  async function phaseOf(tenantId: string): Promise<string | undefined> {
    return withPg(controlUrl, 'moves-crash-test', async (client) => {
      const { rows } = await client.query('SELECT phase FROM tenant_moves WHERE tenant = $1 ORDER BY created_at DESC LIMIT 1', [tenantId]);
      return rows[0]?.phase;
    });
  }

  async function killAt(child: ChildProcess, tenantId: string, phase: string): Promise<string | undefined> {
    const deadline = Date.now() + 300_000;
    let seen: string | undefined;
    while (Date.now() < deadline && child.exitCode === null) {
      seen = await phaseOf(tenantId);
      if (seen === phase) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
    return seen;
  }

  const cases: Array<[string, IsolationModel, IsolationModel]> = [
    ['preparing', 'pool', 'silo'],
    ['copying', 'schema', 'pool'],
    ['catching_up', 'pool', 'schema'],
    ['switching', 'silo', 'schema'],
    ['switched', 'schema', 'silo'],
    ['dropping', 'silo', 'pool'],
  ];

  it.each(cases)('killed while %s (%s -> %s): resumed, nothing lost, nothing doubled', async (phase, from, to) => {
    const tenant = await createTenant(api, { isolation: from, tier: 'pro' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(60);
    writer.start();
    const child = startMover(['tenant', 'move', tenant.id, '--to', to]);
    const seen = await killAt(child, tenant.id, phase);
    expect({ seen, errors: child.errors }).toEqual({ seen: phase, errors: '' });
    await new Promise((resolve) => setTimeout(resolve, 300));

    const resumed = await runMover(['tenant', 'move', tenant.id, '--to', to, '--json']);
    await writer.stop();
    expect({ status: resumed.status, stderr: resumed.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(resumed.stdout)).toMatchObject({ phase: 'done', target: { isolation: to } });
    expect(writer.failures.filter((failure) => !failure.includes('placement_moving'))).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
    expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: to, placementVersion: tenant.placementVersion + 1 });
  }, 900_000);

  it("killed while copying, with nobody asking again: the worker's rounds finish it; a move a live mover holds is left to it", async () => {
    // Rounds every 200 ms, but only for moves quiet for 50 minutes: this test ages its own move, so
    // the suites running beside it (one shared database) keep theirs.
    const worker = await startTestWorker({ ...MOVER_ENV, MOVES_BATCH_ROWS: '500', MOVES_DUTY_CYCLE: '1', MOVES_RESUME_INTERVAL_MS: '200', MOVES_RESUME_AFTER_MS: '3000000' });
    const age = (moveId: string) => withPg(controlUrl, 'moves-crash-test', (client) => client.query("UPDATE tenant_moves SET updated_at = now() - interval '1 day' WHERE id = $1", [moveId]));
    const latest = async (tenantId: string) =>
      withPg(controlUrl, 'moves-crash-test', async (client) => (await client.query<{ id: string }>('SELECT id FROM tenant_moves WHERE tenant = $1 ORDER BY created_at DESC LIMIT 1', [tenantId])).rows[0].id);
    try {
      const resumer = worker.get(MovesResumer);
      const tenant = await createTenant(api, { isolation: 'pool', tier: 'pro' });
      const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
      await writer.seed(60);
      writer.start();
      const child = startMover(['tenant', 'move', tenant.id, '--to', 'schema']);
      expect(await killAt(child, tenant.id, 'copying')).toBe('copying');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      // Nothing happens to a move that is not quiet yet, however long its mover has been dead.
      expect(await phaseOf(tenant.id)).toBe('copying');

      await age(await latest(tenant.id));
      await eventually(async () => ((await phaseOf(tenant.id)) === 'done' ? true : undefined), 'the worker to resume and finish the move', 3000);
      await writer.stop();
      expect(writer.failures.filter((failure) => !failure.includes('placement_moving'))).toEqual([]);
      expect(await writer.read()).toEqual(writer.model);
      expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'schema', placementVersion: tenant.placementVersion + 1 });

      // A live mover in its grace period, quiet as far as the clock goes: its lease keeps it.
      const live = startMover(['tenant', 'move', tenant.id, '--to', 'pool']);
      const deadline = Date.now() + 300_000;
      while ((await phaseOf(tenant.id)) !== 'switched' && Date.now() < deadline && live.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await phaseOf(tenant.id)).toBe('switched');
      const held = await latest(tenant.id);
      await age(held);
      expect(await eventually(async () => ((await resumer.resume()).includes(held) || resumer.inFlight.has(held) ? true : undefined), 'a round to reach for the move')).toBe(true);
      // An operator asking for it meanwhile (as `tenant move` does) follows it to its end.
      const followed: string[] = [];
      const outcome = await worker.get(TenantMover).runOrFollow(held, (now) => followed.push(now.phase));
      expect(outcome.phase).toBe('done');
      expect(['switched', 'dropping']).toContain(followed[0]);
      const status = await new Promise((resolve) => (live.exitCode !== null ? resolve(live.exitCode) : live.once('exit', resolve)));
      expect({ status, errors: live.errors }).toEqual({ status: 0, errors: '' });
      expect(await phaseOf(tenant.id)).toBe('done');
      expect(resumer.inFlight.has(held)).toBe(false);
    } finally {
      await worker.close();
    }
  }, 900_000);

  it('a mover whose lease session is ended (a control database restart) stops without marking its move, which is then resumed', async () => {
    const worker = await startTestWorker({ MOVES_GRACE_MS: '5000', MOVES_RESUME_INTERVAL_MS: '0', LOG_LEVEL: 'silent' });
    try {
      const mover = worker.get(TenantMover);
      const tenant = await createTenant(api, { isolation: 'pool' });
      const move = await mover.request(tenant.id, 'schema');
      const running = mover.run(move.id).then(
        () => undefined,
        (error: unknown) => error,
      );
      await eventually(async () => ((await phaseOf(tenant.id)) === 'switched' ? true : undefined), 'the move to switch', 1200);
      // Only this move's lease: suites beside this one (one shared database) hold leases of their own.
      const ended = await withPg(controlUrl, 'moves-crash-test', (client) =>
        client.query(
          `SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = hashtextextended('bulkhead-mover:' || $1, 0)`,
          [move.id],
        ),
      );
      expect(ended.rowCount).toBe(1);
      expect(((await running) as Error | undefined)?.name).toBe('MoveLeaseLostError');
      const left = await withPg(controlUrl, 'moves-crash-test', async (client) => (await client.query('SELECT phase, error FROM tenant_moves WHERE id = $1', [move.id])).rows[0]);
      expect(['switched', 'dropping']).toContain(left.phase);
      expect(left.error).toBeNull();

      expect(await mover.resume(move.id)).toMatchObject({ phase: 'done' });
      expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'schema', placementVersion: tenant.placementVersion + 1 });
    } finally {
      await worker.close();
    }
  }, 900_000);

  it("a move past its switch that stopped on an error is retried by the worker's rounds (its drop is all that is left), not left to an operator", async () => {
    const worker = await startTestWorker({ MOVES_GRACE_MS: '300', MOVES_RESUME_INTERVAL_MS: '0', MOVES_RESUME_AFTER_MS: '3000000', LOG_LEVEL: 'silent' });
    try {
      const mover = worker.get(TenantMover);
      const tenant = await createTenant(api, { isolation: 'pool' });
      const move = await mover.request(tenant.id, 'schema');
      await expect(
        mover.run(move.id, (now) => {
          if (now.phase === 'dropping') throw new Error('stopped before the drop');
        }),
      ).rejects.toThrow('stopped before the drop');
      // As a drop that met its source cluster down would have left it, long ago.
      await withPg(controlUrl, 'moves-crash-test', (client) =>
        client.query("UPDATE tenant_moves SET error = 'connect ECONNREFUSED', updated_at = now() - interval '1 day' WHERE id = $1", [move.id]),
      );
      expect(await worker.get(MovesResumer).resume()).toContain(move.id);
      await eventually(async () => ((await phaseOf(tenant.id)) === 'done' ? true : undefined), 'the resumed drop to finish', 3000);
      const left = await withPg(controlUrl, 'moves-crash-test', async (client) => (await client.query('SELECT error FROM tenant_moves WHERE id = $1', [move.id])).rows[0]);
      expect(left.error).toBeNull();
    } finally {
      await worker.close();
    }
  }, 900_000);

  it('killed while catching up, then aborted: the source untouched and live, the target gone', async () => {
    const tenant = await createTenant(api, { isolation: 'pool' });
    const writer = new TenantWriter(api.server, tokenFor(api, tenant), tenant.slug);
    await writer.seed(60);
    writer.start();
    const child = startMover(['tenant', 'move', tenant.id, '--to', 'schema']);
    expect(await killAt(child, tenant.id, 'catching_up')).toBe('catching_up');
    const aborted = await runMover(['tenant', 'move', tenant.id, '--abort', '--json']);
    await writer.stop();
    expect(aborted.status).toBe(0);
    expect(JSON.parse(aborted.stdout)).toMatchObject({ phase: 'aborted' });
    expect(writer.failures).toEqual([]);
    expect(await writer.read()).toEqual(writer.model);
    expect(await api.admin.get(tenant.id)).toMatchObject({ isolation: 'pool', placementVersion: tenant.placementVersion });
    const schemas = await withPg(controlUrl, 'moves-crash-test', (client) => client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tenant.id.replace(/-/g, '').replace(/^/, 't_')]));
    expect(schemas.rowCount).toBe(0);
  }, 900_000);
});
