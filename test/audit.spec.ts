import { randomUUID } from 'node:crypto';
import { AuditChainer, AuditCheckpointer, AuditKeys, TenantKeyring, AuditTrail, AuditVerifier, checkpointIsValid, readCheckpoints, RefusalRecorder, TrustedHead } from '@bulkhead/audit';
import { TenantRecord, TenantRegistry, TenantRepository } from '@bulkhead/control-plane';
import { currentTenant, runWithTenant, tenantContextOf, TenantData } from '@bulkhead/tenancy';
import { Customer } from '@bulkhead/sales';
import { createServer } from 'node:http';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@bulkhead/config';
import { parsePgUrl, quoteIdent, withDatabase, withPg } from '@bulkhead/database';
import { Client } from 'pg';
import { runCli } from './support/cli';
import { call } from './support/http';
import { createTenant, startTestApi, TestApi, tokenFor } from './support/test-app';

/** The chain: one entry per committed write, in the tenant's placement, tamper-evident, append-only. */
describe('audit trail', () => {
  const config = loadConfig();
  const mainDb = parsePgUrl(config.DATABASE_URL).database;
  let api: TestApi;

  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(async () => {
    await api.close();
  });

  /** Where a tenant's entries live, as the admin (superuser) sees them. */
  function placementOf(tenant: TenantRecord): { url: string; table: string } {
    if (tenant.isolation === 'silo') return { url: withDatabase(config.DATABASE_ADMIN_URL, tenant.databaseName!), table: 'public.audit_entries' };
    if (tenant.isolation === 'schema') return { url: withDatabase(config.DATABASE_ADMIN_URL, mainDb), table: `${quoteIdent(tenant.schemaName!)}.audit_entries` };
    return { url: withDatabase(config.DATABASE_ADMIN_URL, mainDb), table: 'public.audit_entries' };
  }

  async function asSuperuser<T>(tenant: TenantRecord, work: (client: Client, table: string) => Promise<T>): Promise<T> {
    const { url, table } = placementOf(tenant);
    return withPg(url, 'audit-test', (client) => work(client, table));
  }

  /** A table of the trail beside the entries (`audit_links`, `audit_pending`, `audit_chain_heads`). */
  const beside = (table: string, name: string) => table.replace('audit_entries', name);
  /** The id of the entry linked at `seq` of tenant $1. */
  const linkedAt = (table: string, seq: number) => `(SELECT id FROM ${beside(table, 'audit_links')} WHERE tenant_id = $1 AND seq = ${seq})`;

  /** Links the tenant's committed entries now, rather than within AUDIT_CHAIN_DELAY_MS. */
  async function settle(tenant: TenantRecord): Promise<void> {
    await api.app.get(AuditChainer).chainNow(tenantContextOf(tenant, 'audit-test'));
  }

  async function writeCustomers(tenant: TenantRecord, count: number): Promise<string[]> {
    const token = tokenFor(api, tenant);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const response = await call(api.server, 'post', '/v1/customers', token, { name: `c${i}`, email: `c${i}-${tenant.slug}@example.com` });
      expect(response.status).toBe(201);
      ids.push(response.body.id);
    }
    await settle(tenant);
    return ids;
  }

  async function verify(tenant: TenantRecord, checkpoints?: Map<string, TrustedHead>) {
    const [report] = await api.app.get(AuditVerifier).verify({ tenant: tenant.id, checkpoints });
    return report;
  }

  it.each(['free', 'pro', 'enterprise'] as const)('records each committed write in the %s tenant placement, chained', async (tier) => {
    const tenant = await createTenant(api, { tier });
    const created = await writeCustomers(tenant, 3);
    // A refused write (duplicate e-mail) commits nothing: its entry says it failed, and comes after.
    const token = tokenFor(api, tenant);
    expect((await call(api.server, 'post', '/v1/customers', token, { name: 'dup', email: `c0-${tenant.slug}@example.com` })).status).toBe(409);
    await api.app.get(RefusalRecorder).flush();
    await settle(tenant);
    const rows = await asSuperuser(tenant, async (client, table) =>
      (await client.query(`SELECT l.seq::int, e.action, e.outcome, e.actor_kind, e.entry, e.pii FROM ${table} e JOIN ${beside(table, 'audit_links')} l ON l.tenant_id = e.tenant_id AND l.id = e.id WHERE e.tenant_id = $1 ORDER BY l.seq`, [tenant.id])).rows,
    );
    expect(rows.map((r) => [r.seq, r.action, r.outcome, r.actor_kind])).toEqual([
      [1, 'POST /v1/customers', 'committed', 'tenant_user'],
      [2, 'POST /v1/customers', 'committed', 'tenant_user'],
      [3, 'POST /v1/customers', 'committed', 'tenant_user'],
      [4, 'POST /v1/customers', 'failed', 'tenant_user'],
    ]);
    const entry = JSON.parse(rows[0].entry);
    // A create names the row it created.
    expect(rows.slice(0, 3).map((row) => JSON.parse(row.entry).resource.id)).toEqual(created);
    expect(entry).toMatchObject({
      tenant: tenant.id,
      resolution: { via: 'token', claim: 'tenant_id', placement: { model: tenant.isolation, cluster: 'main' } },
      boundary: expect.arrayContaining(['token_verified', 'tenant_active', 'rls_forced']),
      personal: 'sealed',
    });
    // The subject is personal data: sealed, never in clear.
    expect(rows[0].entry).not.toContain('user-1');
    expect(rows[0].pii.toString('utf8')).not.toContain('user-1');
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 4, lastSeq: '4', firstBadSeq: null });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of entries, links and pending marks to the runtime role, the owner and a superuser', async () => {
    const tenant = await createTenant(api);
    await writeCustomers(tenant, 1);
    await withPg(config.DATABASE_URL, 'audit-test', async (client) => {
      for (const sql of [
        "UPDATE audit_entries SET action = 'x'",
        // Entries go in only through audit_append, which marks each one pending.
        `INSERT INTO audit_entries (tenant_id, id, occurred_at, action, outcome, actor_kind, entry) VALUES ('${tenant.id}', gen_random_uuid(), now(), 'x', 'x', 'x', '{}')`,
        'UPDATE audit_links SET seq = seq',
        'DELETE FROM audit_links',
        `INSERT INTO audit_links (tenant_id, id, seq, prev_hash, hash) VALUES ('${tenant.id}', gen_random_uuid(), 2, sha256('x'), sha256('y'))`,
        'SELECT * FROM audit_pending',
        'DELETE FROM audit_pending',
      ]) {
        await client.query('BEGIN');
        await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
        await expect(client.query(sql)).rejects.toThrow(/permission denied/);
        await client.query('ROLLBACK');
      }
      // The one way in appends to the transaction's own tenant only: RLS, forced on the function's owner too.
      for (const setting of [randomUUID(), '']) {
        await client.query('BEGIN');
        await client.query("SELECT set_config('app.tenant_id', $1, true)", [setting]);
        await expect(client.query("SELECT audit_append($1, gen_random_uuid(), now(), 'forged', 'committed', 'system', NULL, '{}', NULL)", [tenant.id])).rejects.toThrow(/row-level security/);
        await client.query('ROLLBACK');
      }
    });
    // A pending mark to try to remove: an entry whose chaining round never comes (until settle).
    const unscheduled = new AuditTrail(api.app.get(TenantData), api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
    await runWithTenant(tenantContextOf(tenant, 'audit-test'), () => api.app.get(TenantData).transaction((tx) => unscheduled.record(tx, { action: 'mark', outcome: 'committed', actor: { kind: 'system' } })));
    for (const url of [config.DATABASE_OWNER_URL, withDatabase(config.DATABASE_ADMIN_URL, mainDb)]) {
      await withPg(url, 'audit-test', async (client) => {
        const cases: Array<[string, RegExp]> = [
          ["UPDATE audit_entries SET action = 'x' WHERE tenant_id = $1", /append-only: UPDATE refused/],
          ['DELETE FROM audit_entries WHERE tenant_id = $1', /append-only: DELETE refused/],
          ['TRUNCATE audit_entries', /append-only: TRUNCATE refused/],
          ['UPDATE audit_links SET hash = sha256(hash) WHERE tenant_id = $1', /append-only: UPDATE refused/],
          ['DELETE FROM audit_links WHERE tenant_id = $1', /append-only: DELETE refused/],
          ['TRUNCATE audit_links', /append-only: TRUNCATE refused/],
          ['DELETE FROM audit_pending WHERE tenant_id = $1', /append-only: DELETE refused/],
          ['TRUNCATE audit_pending', /append-only: TRUNCATE refused/],
        ];
        for (const [sql, refusal] of cases) {
          // With the tenant set, so that RLS (forced, also on the owner) lets the statement reach the rows.
          await client.query('BEGIN');
          await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
          await expect(client.query(sql, sql.includes('$1') ? [tenant.id] : [])).rejects.toThrow(refusal);
          await client.query('ROLLBACK');
        }
      });
    }
    await settle(tenant);
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 2 });
  });

  describe('tampering by a superuser who switches the triggers off is detected', () => {
    /** Runs `sql` as a superuser with triggers off (session_replication_role = replica). */
    async function tamper(tenant: TenantRecord, sql: (table: string) => string, params: unknown[] = []): Promise<void> {
      await asSuperuser(tenant, async (client, table) => {
        await client.query("SET session_replication_role = 'replica'");
        await client.query(sql(table), params);
      });
    }

    async function chainOf(count: number): Promise<TenantRecord> {
      const tenant = await createTenant(api);
      await writeCustomers(tenant, count);
      expect(await verify(tenant)).toMatchObject({ ok: true, entries: count });
      return tenant;
    }

    it('a changed entry', async () => {
      // More than 9 entries, so sequence order and text order differ.
      const tenant = await chainOf(12);
      await tamper(tenant, (t) => `UPDATE ${t} SET entry = replace(entry, 'committed', 'kommitted'), outcome = 'kommitted' WHERE tenant_id = $1 AND id = ${linkedAt(t, 11)}`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '11', problem: expect.stringContaining('changed') });
    });

    it('an entry whose text is no longer JSON', async () => {
      const tenant = await chainOf(3);
      await tamper(tenant, (t) => `UPDATE ${t} SET entry = 'erased' WHERE tenant_id = $1 AND id = ${linkedAt(t, 2)}`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '2', problem: expect.stringContaining('changed') });
    });

    it('bulkhead audit verify --tenant names the first bad sequence number and exits 1', async () => {
      const tenant = await chainOf(3);
      const clean = runCli(['audit', 'verify', '--tenant', tenant.slug]);
      expect(clean.status).toBe(0);
      expect(clean.stdout).toContain(`ok  ${tenant.id} (pool): 3 entries, last seq 3`);
      await tamper(tenant, (t) => `UPDATE ${t} SET entry = entry || ' ' WHERE tenant_id = $1 AND id = ${linkedAt(t, 2)}`, [tenant.id]);
      const broken = runCli(['audit', 'verify', '--tenant', tenant.id]);
      expect(broken.status).toBe(1);
      expect(broken.stdout).toContain('first bad seq 2: entry 2 was changed');
    });

    it('a changed filter column', async () => {
      const tenant = await chainOf(5);
      await tamper(tenant, (t) => `UPDATE ${t} SET action = 'GET /v1/customers' WHERE tenant_id = $1 AND id = ${linkedAt(t, 2)}`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '2', problem: expect.stringContaining('filter column') });
    });

    /** Removes the entry linked at `seq` and its link. */
    const removeAt = (tenant: TenantRecord, seq: number) =>
      tamper(tenant, (t) => `WITH l AS (DELETE FROM ${beside(t, 'audit_links')} WHERE tenant_id = $1 AND seq = ${seq} RETURNING id) DELETE FROM ${t} WHERE tenant_id = $1 AND id IN (SELECT id FROM l)`, [tenant.id]);

    it('a removed entry', async () => {
      const tenant = await chainOf(5);
      await removeAt(tenant, 4);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '4', problem: expect.stringContaining('missing') });
    });

    it('the last entry removed', async () => {
      const tenant = await chainOf(5);
      await removeAt(tenant, 5);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '5', problem: expect.stringContaining('head') });
    });

    it('an entry removed, its link left', async () => {
      const tenant = await chainOf(5);
      await tamper(tenant, (t) => `DELETE FROM ${t} WHERE tenant_id = $1 AND id = ${linkedAt(t, 3)}`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '3', problem: expect.stringContaining('missing') });
    });

    it('a link removed, its entry left', async () => {
      const tenant = await chainOf(5);
      await tamper(tenant, (t) => `DELETE FROM ${beside(t, 'audit_links')} WHERE tenant_id = $1 AND seq = 3`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '3', problem: expect.stringContaining('missing') });
    });

    it('a changed link hash', async () => {
      const tenant = await chainOf(4);
      await tamper(tenant, (t) => `UPDATE ${beside(t, 'audit_links')} SET hash = sha256(hash) WHERE tenant_id = $1 AND seq = 2`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '2', problem: expect.stringContaining('changed') });
    });

    it('two links swapped between their entries', async () => {
      const tenant = await chainOf(4);
      await asSuperuser(tenant, async (client, table) => {
        await client.query("SET session_replication_role = 'replica'");
        const links = beside(table, 'audit_links');
        const ids = (await client.query(`SELECT seq::int, id FROM ${links} WHERE tenant_id = $1 AND seq IN (2, 3) ORDER BY seq`, [tenant.id])).rows.map((r) => r.id as string);
        // Each link keeps its place and hashes but names the other entry (through a free id: the key is unique).
        await client.query(`UPDATE ${links} SET id = gen_random_uuid() WHERE tenant_id = $1 AND seq = 2`, [tenant.id]);
        await client.query(`UPDATE ${links} SET id = $2 WHERE tenant_id = $1 AND seq = 3`, [tenant.id, ids[0]]);
        await client.query(`UPDATE ${links} SET id = $2 WHERE tenant_id = $1 AND seq = 2`, [tenant.id, ids[1]]);
      });
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '2', problem: expect.stringContaining('changed') });
    });

    it('an entry whose pending mark was removed before it was linked', async () => {
      const tenant = await chainOf(2);
      const crashed = new AuditTrail(api.app.get(TenantData), api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
      await runWithTenant(tenantContextOf(tenant, 'audit-test'), () => api.app.get(TenantData).transaction((tx) => crashed.record(tx, { action: 'unlinked', outcome: 'committed', actor: { kind: 'system' } })));
      // Pending is not a fault: it is linked moments later.
      expect(await verify(tenant)).toMatchObject({ ok: true, entries: 2 });
      await tamper(tenant, (t) => `DELETE FROM ${beside(t, 'audit_pending')} WHERE tenant_id = $1`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '3', problem: expect.stringContaining('no chain') });
    });

    it('an inserted entry', async () => {
      const tenant = await chainOf(5);
      // Shift links 3.. up by one and slip a forged entry in at 3.
      await asSuperuser(tenant, async (client, table) => {
        await client.query("SET session_replication_role = 'replica'");
        const links = beside(table, 'audit_links');
        await client.query(`UPDATE ${links} SET seq = seq + 100 WHERE tenant_id = $1 AND seq >= 3`, [tenant.id]);
        await client.query(`UPDATE ${links} SET seq = seq - 99 WHERE tenant_id = $1 AND seq >= 103`, [tenant.id]);
        await client.query(
          `WITH forged AS (
             INSERT INTO ${table} (tenant_id, id, occurred_at, action, outcome, actor_kind, request_id, entry, pii)
             SELECT tenant_id, gen_random_uuid(), occurred_at, action, outcome, actor_kind, request_id, entry, pii FROM ${table} WHERE tenant_id = $1 AND id = ${linkedAt(table, 2)}
             RETURNING tenant_id, id)
           INSERT INTO ${links} (tenant_id, id, seq, prev_hash, hash)
           SELECT f.tenant_id, f.id, 3, l.hash, sha256(l.hash) FROM forged f, ${links} l WHERE l.tenant_id = $1 AND l.seq = 2`,
          [tenant.id],
        );
      });
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '3' });
    });

    it('an entry appended around audit_append, even with a well-formed hash', async () => {
      const tenant = await chainOf(3);
      await tamper(
        tenant,
        (t) => `WITH copy AS (
                  INSERT INTO ${t} (tenant_id, id, occurred_at, action, outcome, actor_kind, request_id, entry, pii)
                  SELECT tenant_id, gen_random_uuid(), occurred_at, action, outcome, actor_kind, request_id, entry, pii FROM ${t} WHERE tenant_id = $1 AND id = ${linkedAt(t, 3)}
                  RETURNING tenant_id, id, entry, pii)
                INSERT INTO ${beside(t, 'audit_links')} (tenant_id, id, seq, prev_hash, hash)
                SELECT c.tenant_id, c.id, 4, l.hash,
                       sha256(l.hash || int8send(4) || sha256(int4send(octet_length(convert_to(c.entry, 'UTF8'))) || convert_to(c.entry, 'UTF8') || coalesce(c.pii, '\\x'::bytea)))
                  FROM copy c, ${beside(t, 'audit_links')} l WHERE l.tenant_id = $1 AND l.seq = 3`,
        [tenant.id],
      );
      // Its hash links, but the entry was not chained by the database: the id no longer matches,
      // and the chain head still says 3.
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '4' });
    });

    it('reordered entries', async () => {
      const tenant = await chainOf(5);
      await asSuperuser(tenant, async (client, table) => {
        await client.query("SET session_replication_role = 'replica'");
        const links = beside(table, 'audit_links');
        await client.query(`UPDATE ${links} SET seq = CASE seq WHEN 2 THEN 4 ELSE 2 END + 1000 WHERE tenant_id = $1 AND seq IN (2, 4)`, [tenant.id]);
        await client.query(`UPDATE ${links} SET seq = seq - 1000 WHERE tenant_id = $1 AND seq > 1000`, [tenant.id]);
      });
      expect(await verify(tenant)).toMatchObject({ ok: false, firstBadSeq: '2' });
    });

    it('a truncated table, and a truncated chain the signed checkpoint still vouches for', async () => {
      const tenant = await chainOf(3);
      const head = await asSuperuser(tenant, async (client, table) => {
        const { rows } = await client.query(`SELECT seq, hash FROM ${beside(table, 'audit_chain_heads')} WHERE tenant_id = $1`, [tenant.id]);
        return { seq: BigInt(rows[0].seq), hash: rows[0].hash as Buffer };
      });
      // A pool table holds every tenant's entries: truncate a silo's instead, then drop its head too.
      const silo = await createTenant(api, { tier: 'enterprise' });
      await writeCustomers(silo, 2);
      // The entries alone: their links remain.
      await tamper(silo, (t) => `TRUNCATE ${t}`);
      expect(await verify(silo)).toMatchObject({ ok: false, firstBadSeq: '1', problem: expect.stringContaining('missing') });
      // The links too: the head still says 2.
      await tamper(silo, (t) => `TRUNCATE ${beside(t, 'audit_links')}`);
      expect(await verify(silo)).toMatchObject({ ok: false, firstBadSeq: '1', problem: expect.stringContaining('head') });
      // The links alone, of another silo: its entries are in no chain, and the head says 2.
      const other = await createTenant(api, { tier: 'enterprise' });
      await writeCustomers(other, 2);
      await tamper(other, (t) => `TRUNCATE ${beside(t, 'audit_links')}`);
      expect(await verify(other)).toMatchObject({ ok: false, firstBadSeq: '1', problem: expect.stringContaining('head') });
      // Removing the entries, links and head of the pool tenant leaves an empty chain: only the checkpoint tells.
      await tamper(tenant, (t) => `DELETE FROM ${t} WHERE tenant_id = $1`, [tenant.id]);
      await tamper(tenant, (t) => `DELETE FROM ${beside(t, 'audit_links')} WHERE tenant_id = $1`, [tenant.id]);
      await tamper(tenant, (t) => `DELETE FROM ${beside(t, 'audit_chain_heads')} WHERE tenant_id = $1`, [tenant.id]);
      expect(await verify(tenant)).toMatchObject({ ok: true, entries: 0 });
      expect(await verify(tenant, new Map([[tenant.id, head]]))).toMatchObject({ ok: false, firstBadSeq: '1', problem: expect.stringContaining('checkpoint') });
    });
  });

  it('signs chain heads into a file sink and an HTTP sink; verify trusts only validly signed checkpoints', async () => {
    const tenant = await createTenant(api);
    await writeCustomers(tenant, 2);
    const received: unknown[] = [];
    const sink = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(JSON.parse(body));
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    const file = join(mkdtempSync('/tmp/bulkhead-checkpoints-'), 'checkpoints.jsonl');
    try {
      const port = (sink.address() as { port: number }).port;
      const settings = loadConfig({ ...process.env, AUDIT_CHECKPOINT_FILE: file, AUDIT_CHECKPOINT_URL: `http://127.0.0.1:${port}/checkpoints` });
      const keys = api.app.get(AuditKeys);
      const checkpointer = new AuditCheckpointer(settings, keys, api.app.get(TenantData), api.app.get(TenantRepository), api.app.get(AuditTrail));
      const written = await checkpointer.checkpoint();
      const mine = written.find((c) => c.tenant === tenant.id)!;
      expect(mine).toMatchObject({ seq: '2' });
      expect(checkpointIsValid(keys.publicKey, mine)).toBe(true);
      expect(received).toEqual([{ checkpoints: written }]);
      // Nothing moved: the next round signs nothing for this tenant.
      expect((await checkpointer.checkpoint()).some((c) => c.tenant === tenant.id)).toBe(false);

      const { heads, invalid } = readCheckpoints(file, keys.publicKey);
      expect(invalid).toBe(0);
      expect(await verify(tenant, heads)).toMatchObject({ ok: true, checkpoint: { seq: '2', matches: true } });
      // A checkpoint line with a forged signature is not trusted.
      const forged = { ...mine, seq: '9' };
      appendFileSync(file, JSON.stringify(forged) + '\n');
      expect(readCheckpoints(file, keys.publicKey)).toMatchObject({ invalid: 1 });
    } finally {
      sink.close();
    }
  });

  it('signs one round at a time across workers: a round that finds another running skips', async () => {
    const tenant = await createTenant(api);
    await writeCustomers(tenant, 1);
    const file = join(mkdtempSync('/tmp/bulkhead-checkpoints-'), 'checkpoints.jsonl');
    const settings = loadConfig({ ...process.env, AUDIT_CHECKPOINT_FILE: file });
    const checkpointer = new AuditCheckpointer(settings, api.app.get(AuditKeys), api.app.get(TenantData), api.app.get(TenantRepository), api.app.get(AuditTrail));
    // Another worker's round in progress holds the lock.
    await withPg(config.DATABASE_URL, 'other-worker', async (other) => {
      await other.query("SELECT pg_advisory_lock(hashtextextended('bulkhead:audit-checkpoint-round', 0))");
      expect(await checkpointer.checkpoint()).toEqual([]);
    });
    expect((await checkpointer.checkpoint()).some((c) => c.tenant === tenant.id)).toBe(true);
  });

  it('chains REPEATABLE READ writes of one tenant like any other (no serialization failure on the head)', async () => {
    const tenant = await createTenant(api);
    const data = api.app.get(TenantData);
    const write = (i: number) =>
      runWithTenant(tenantContextOf(tenant, 'rr-writer'), () =>
        data.transaction((tx) => tx.repository(Customer).insert({ name: `rr${i}`, email: `rr${i}-${tenant.slug}@example.com` }), { isolationLevel: 'REPEATABLE READ' }),
      );
    // Concurrent snapshot transactions of one tenant, each with its entry: none fails on the chain head.
    await Promise.all([0, 1, 2, 3, 4].map(write));
    await writeCustomers(tenant, 1);
    const rows = await asSuperuser(tenant, async (client, table) => (await client.query(`SELECT seq::int FROM ${beside(table, 'audit_links')} WHERE tenant_id = $1 ORDER BY seq`, [tenant.id])).rows);
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 6 });
  });

  it("commits one tenant's concurrent writes side by side, each entry pending until the chainer links it in one gapless chain", async () => {
    const tenant = await createTenant(api);
    const token = tokenFor(api, tenant);
    const statuses = await Promise.all(
      Array.from({ length: 24 }, (_, i) => call(api.server, 'post', '/v1/customers', token, { name: `p${i}`, email: `p${i}-${tenant.slug}@example.com` }).then((r) => r.status)),
    );
    expect(statuses.every((status) => status === 201)).toBe(true);
    // Within AUDIT_CHAIN_DELAY_MS (250 ms by default) of the last commit, the chainer has linked them all.
    const chained = async () =>
      asSuperuser(tenant, async (client, table) => (await client.query(`SELECT count(l.seq)::int AS n, count(*)::int AS total FROM ${table} e LEFT JOIN ${beside(table, 'audit_links')} l ON l.tenant_id = e.tenant_id AND l.id = e.id WHERE e.tenant_id = $1`, [tenant.id])).rows[0]);
    for (let i = 0; i < 100 && (await chained()).n < 24; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await chained()).toEqual({ n: 24, total: 24 });
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 24, lastSeq: '24' });
  });

  it('appends the several entries of one transaction in one statement, each marked pending and chained', async () => {
    const tenant = await createTenant(api);
    const actions = ['first', 'second', 'third'];
    await runWithTenant(tenantContextOf(tenant, 'audit-test'), () =>
      api.app.get(TenantData).transaction((tx) => api.app.get(AuditTrail).recordAll(tx, actions.map((action) => ({ action, outcome: 'committed', actor: { kind: 'system' } })))),
    );
    await settle(tenant);
    const rows = await asSuperuser(tenant, async (client, table) =>
      (await client.query(`SELECT e.action FROM ${table} e JOIN ${beside(table, 'audit_links')} l ON l.tenant_id = e.tenant_id AND l.id = e.id WHERE e.tenant_id = $1 ORDER BY l.seq`, [tenant.id])).rows,
    );
    expect(rows.map((row) => row.action).sort()).toEqual([...actions].sort());
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 3, lastSeq: '3' });
  });

  it("chains a round's pool tenants in one transaction, each in its own chain; a tenant whose chain fails is chained alone and holds no other back", async () => {
    const tenants = [await createTenant(api), await createTenant(api), await createTenant(api)];
    const data = api.app.get(TenantData);
    // Entries committed pending by a trail whose chainer never runs, so only the chainer below links them.
    const idle = new AuditTrail(data, api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
    const writePending = (tenant: TenantRecord) =>
      runWithTenant(tenantContextOf(tenant, 'batch-test'), () => data.transaction((tx) => idle.record(tx, { action: 'batch test', outcome: 'committed', actor: { kind: 'system', subject: 'test' } })));
    const linked = (tenant: TenantRecord) => asSuperuser(tenant, async (client, table) => (await client.query(`SELECT count(*)::int AS n FROM ${beside(table, 'audit_links')} WHERE tenant_id = $1`, [tenant.id])).rows[0].n as number);
    /** Schedules every tenant and waits until `expected` have `links` links each. */
    const chainRound = async (chainer: AuditChainer, expected: TenantRecord[], links: number) => {
      for (const tenant of tenants) chainer.schedule(tenantContextOf(tenant, 'batch-test'));
      for (let i = 0; i < 100 && (await Promise.all(expected.map(linked))).some((n) => n < links); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    };

    for (const tenant of tenants) await writePending(tenant);
    // Counted on this chainer's own handle: the API's background work (its own chainer, the
    // refusal recorder) may open transactions on the shared TenantData meanwhile.
    let transactions = 0;
    const counted = { transaction: (...args: Parameters<TenantData['transaction']>) => ((transactions += 1), data.transaction(...args)) } as unknown as TenantData;
    await chainRound(new AuditChainer(counted, api.app.get(TenantRegistry), loadConfig()), tenants, 1);
    expect(transactions).toBe(1);
    for (const tenant of tenants) expect(await verify(tenant)).toMatchObject({ ok: true, entries: 1, lastSeq: '1' });

    // The second tenant's next place is taken (a link slipped in around the chain): its chaining
    // fails, which fails the batch; the others are then chained one by one, and it stays pending.
    for (const tenant of tenants) await writePending(tenant);
    await asSuperuser(tenants[1], (client, table) =>
      client.query(`INSERT INTO ${beside(table, 'audit_links')} (tenant_id, id, seq, prev_hash, hash) VALUES ($1, gen_random_uuid(), 2, $2, $2)`, [tenants[1].id, Buffer.alloc(32)]),
    );
    const chainer = new AuditChainer(data, api.app.get(TenantRegistry), loadConfig());
    await chainRound(chainer, [tenants[0], tenants[2]], 2);
    expect(await Promise.all(tenants.map(linked))).toEqual([2, 2, 2]);
    expect(await verify(tenants[0])).toMatchObject({ ok: true, entries: 2, lastSeq: '2' });
    expect(await verify(tenants[2])).toMatchObject({ ok: true, entries: 2, lastSeq: '2' });
    const pendingOfSecond = await asSuperuser(tenants[1], async (client, table) => (await client.query(`SELECT count(*)::int AS n FROM ${beside(table, 'audit_pending')} WHERE tenant_id = $1`, [tenants[1].id])).rows[0].n);
    expect(pendingOfSecond).toBe(1);
    await chainer.beforeApplicationShutdown();
  });

  it('stops chaining a tenant erased with its pending entries (its dropped schema would fail every retry)', async () => {
    const data = api.app.get(TenantData);
    const registry = api.app.get(TenantRegistry);
    const idle = new AuditTrail(data, api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
    const writePending = (tenant: TenantRecord) =>
      runWithTenant(tenantContextOf(tenant, 'erased-test'), () => data.transaction((tx) => idle.record(tx, { action: 'erased test', outcome: 'committed', actor: { kind: 'system', subject: 'test' } })));
    const erased = await createTenant(api, { isolation: 'schema' });
    await writePending(erased);
    // The erasure's end state: storage dropped, record retired (the saga does both).
    await withPg(config.DATABASE_OWNER_URL, 'audit-test', (client) => client.query(`DROP SCHEMA "${erased.schemaName}" CASCADE`));
    await api.admin.retire(erased.id);
    const attempts = new Map<string, number>();
    const counted = {
      transaction: (...args: Parameters<TenantData['transaction']>) => {
        const tenantId = currentTenant().tenantId;
        attempts.set(tenantId, (attempts.get(tenantId) ?? 0) + 1);
        return data.transaction(...args);
      },
    } as unknown as TenantData;
    const chainer = new AuditChainer(counted, registry, loadConfig());
    chainer.schedule(tenantContextOf(erased, 'erased-test'));
    // Long enough for the first round and several retries (a failed round waits a second).
    await new Promise((resolve) => setTimeout(resolve, 4000));
    expect(attempts.get(erased.id)).toBe(1);
    await chainer.beforeApplicationShutdown();
  });

  it('chains a round by reading its own entries only, however long the trail and however stale the statistics', async () => {
    const tenant = await createTenant(api);
    const data = api.app.get(TenantData);
    const idle = new AuditTrail(data, api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
    const writePending = (count: number) =>
      runWithTenant(tenantContextOf(tenant, 'scan-test'), () =>
        data.transaction((tx) => idle.recordAll(tx, Array.from({ length: count }, (_, i) => ({ action: `scan test ${i}`, outcome: 'committed', actor: { kind: 'system', subject: 'test' } })))),
      );
    // Statistics taken while the tenant had no entry: the planner believes its trail is a row or two.
    await asSuperuser(tenant, (client) => client.query('ANALYZE audit_entries, audit_links'));
    await writePending(600);
    await settle(tenant);
    /** Chains the tenant in a transaction of its own: the rows it read, and how many entries it linked. */
    const chainOnce = () =>
      withPg(config.DATABASE_URL, 'audit-test', async (client) => {
        await client.query('BEGIN');
        await client.query("SELECT set_config('app.tenant_id', $1, true)", [tenant.id]);
        await client.query('SELECT audit_chain_pending($1::uuid)', [tenant.id]);
        // Rows a sequential or bitmap scan read from the table, and rows fetched through its indexes.
        const rowsRead = (table: string) =>
          `pg_stat_get_xact_tuples_returned('${table}'::regclass) + pg_stat_get_xact_tuples_fetched('${table}'::regclass)
           + (SELECT sum(pg_stat_get_xact_tuples_fetched(indexrelid)) FROM pg_index WHERE indrelid = '${table}'::regclass)`;
        const { rows } = await client.query(`SELECT ${rowsRead('audit_entries')} AS entries, ${rowsRead('audit_links')} AS links`);
        // Read after the counters: the links this transaction made.
        const made = await client.query('SELECT count(*)::int AS n FROM audit_links WHERE tenant_id = $1 AND xmin = pg_current_xact_id()::xid', [tenant.id]);
        await client.query('COMMIT');
        return { entries: Number(rows[0].entries), links: Number(rows[0].links), linked: made.rows[0].n as number };
      });
    // Another suite's worker may chain the new entries first (its checkpoint round chains every
    // tenant): then write more and try again.
    let written = 600;
    let read = { entries: 0, links: 0, linked: 0 };
    for (let attempt = 0; attempt < 5 && read.linked === 0; attempt++) {
      await writePending(20);
      written += 20;
      read = await chainOnce();
    }
    // Its own new entries, each by its key: not the 600 before them, and none of their links.
    expect(read.linked).toBeGreaterThan(0);
    expect(read.entries).toBe(read.linked);
    expect(read.links).toBe(0);
    await settle(tenant);
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: written, lastSeq: String(written) });
  });

  it('links entries a crash left pending at the next sweep of the worker, with or without a checkpoint sink', async () => {
    const tenant = await createTenant(api);
    const pending = async () => asSuperuser(tenant, async (client, table) => (await client.query(`SELECT count(*)::int AS n FROM ${beside(table, 'audit_pending')} WHERE tenant_id = $1`, [tenant.id])).rows[0].n);
    // As if the process died between the commit and its chaining round: the entry is committed, pending.
    // A trail whose process "dies" before chaining: its chainer never runs.
    const data = api.app.get(TenantData);
    const trail = api.app.get(AuditTrail);
    const crashed = new AuditTrail(data, api.app.get(TenantKeyring), loadConfig(), { schedule: () => undefined } as unknown as AuditChainer);
    await runWithTenant(tenantContextOf(tenant, 'crasher'), () =>
      data.transaction(async (tx) => {
        await tx.repository(Customer).insert({ name: 'crash', email: `crash-${tenant.slug}@example.com` });
        await crashed.record(tx, { action: 'crash test', outcome: 'committed', actor: { kind: 'system', subject: 'test' } });
      }),
    );
    expect(await pending()).toBe(1);
    const settings = loadConfig({ ...process.env, AUDIT_CHECKPOINT_FILE: '', AUDIT_CHECKPOINT_URL: '' });
    const sweeper = new AuditCheckpointer(settings, api.app.get(AuditKeys), data, api.app.get(TenantRepository), trail);
    expect(await sweeper.checkpoint()).toEqual([]);
    expect(await pending()).toBe(0);
    expect(await verify(tenant)).toMatchObject({ ok: true, entries: 1 });
  });
});
