import { Client } from 'pg';
import { parsePgUrl, quoteIdent, quoteLiteral, withPg } from './pg-client';
import { isPlainIdentifier } from './tenant-names';
import { detectDatabaseEngine } from './database-engine';
import { withDatabase } from './tenant-storage';

export interface BootstrapUrls {
  adminUrl: string;
  ownerUrl: string;
  runtimeUrl: string;
}

/**
 * Creates the two roles and the database, idempotently. The owner runs migrations and owns every
 * object; the runtime role is created without SUPERUSER, BYPASSRLS, CREATEDB or CREATEROLE and,
 * if it already exists, is stripped of them, so no configuration mistake leaves the API able to
 * step around row-level security.
 */
export async function bootstrapDatabase(urls: BootstrapUrls, options: { recreate?: boolean } = {}): Promise<void> {
  const owner = parsePgUrl(urls.ownerUrl);
  const runtime = parsePgUrl(urls.runtimeUrl);
  for (const name of [owner.user, runtime.user]) {
    if (!isPlainIdentifier(name)) throw new Error(`Role name "${name}" must be a lower-case identifier (letters, digits, _)`);
  }
  if (owner.user === runtime.user) throw new Error('DATABASE_OWNER_URL and DATABASE_URL must use different roles');
  if (owner.database !== runtime.database) throw new Error('DATABASE_OWNER_URL and DATABASE_URL must name the same database');
  if (!isPlainIdentifier(owner.database)) throw new Error(`Database name "${owner.database}" must be a lower-case identifier (letters, digits, _)`);

  await withPg(urls.adminUrl, 'bulkhead-bootstrap', async (admin) => {
    // Roles are cluster-wide: serialise concurrent bootstraps (parallel test runs, two setups).
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', ['bulkhead-bootstrap']);
    try {
      await ensureRole(admin, owner.user, owner.password, 'NOSUPERUSER NOBYPASSRLS NOCREATEROLE CREATEDB INHERIT');
      await ensureRole(admin, runtime.user, runtime.password, 'NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT');
      // The runtime role's statements carry values inlined (compiled inserts, the COMMIT message's
      // usage and audit statements): a failing one's text must not reach the server log with a
      // tenant's data in it, where no erasure reaches.
      await admin.query(`ALTER ROLE ${quoteIdent(runtime.user)} SET log_min_error_statement = 'panic'`);
      // Membership would let the runtime role act as the owner (and owners can switch FORCE off).
      const member = await admin.query(
        `SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
          WHERE u.rolname = $1`,
        [runtime.user],
      );
      if (member.rowCount) throw new Error(`Runtime role ${runtime.user} is a member of another role; revoke that membership`);
      // A tenant move copies rows as the owner the way logical replication applies them: with
      // session_replication_role = replica, so the target's triggers (audit chaining, foreign
      // keys) leave the copied rows exactly as they were (PostgreSQL 15: GRANT SET ON PARAMETER).
      await admin.query(`GRANT SET ON PARAMETER session_replication_role TO ${quoteIdent(owner.user)}`);

      if (options.recreate) {
        // Silo databases are named after their cluster database: drop them with it.
        const silos = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1 || '\_t\_%'", [owner.database]);
        for (const silo of silos.rows) await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(silo.datname)} WITH (FORCE)`);
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(owner.database)} WITH (FORCE)`);
      }
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [owner.database]);
      if (!exists.rowCount) {
        await admin.query(`CREATE DATABASE ${quoteIdent(owner.database)} OWNER ${quoteIdent(owner.user)}`);
      }
      await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(owner.database)} FROM PUBLIC`);
      await admin.query(`GRANT CONNECT ON DATABASE ${quoteIdent(owner.database)} TO ${quoteIdent(runtime.user)}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', ['bulkhead-bootstrap']);
    }
  });

  // On a Citus coordinator the runtime role's SET LOCAL (bulkhead_set_tenant) must travel to the
  // workers with the transaction, or every shard sees no tenant (zero rows, writes refused).
  await withPg(withDatabase(urls.adminUrl, owner.database), 'bulkhead-bootstrap', async (admin) => {
    if ((await detectDatabaseEngine(admin)) !== 'citus') return;
    await admin.query(`ALTER ROLE ${quoteIdent(runtime.user)} IN DATABASE ${quoteIdent(owner.database)} SET citus.propagate_set_commands = 'local'`);
  });

  await withPg(urls.ownerUrl, 'bulkhead-bootstrap', async (ownerClient) => {
    await ownerClient.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
    await ownerClient.query(`GRANT USAGE ON SCHEMA public TO ${quoteIdent(runtime.user)}`);
  });
}

async function ensureRole(admin: Client, name: string, password: string, attributes: string): Promise<void> {
  const found = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
  const passwordClause = password ? ` PASSWORD ${quoteLiteral(password)}` : '';
  const verb = found.rowCount ? 'ALTER' : 'CREATE';
  await admin.query(`${verb} ROLE ${quoteIdent(name)} WITH LOGIN ${attributes}${passwordClause}`);
}
