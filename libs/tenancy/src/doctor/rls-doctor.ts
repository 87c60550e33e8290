import { Client } from 'pg';

export interface DoctorTableReport {
  table: string;
  rlsEnabled: boolean;
  rlsForced: boolean;
  commands: string[];
  tenantIndex: string | null;
}

export interface DoctorReport {
  violations: string[];
  tables: DoctorTableReport[];
  rowsPerTenant: Array<{ table: string; tenantId: string; rows: number }>;
  connections: Array<{ role: string; application: string; state: string; count: number }>;
}

const TENANT_PREDICATE = "current_setting('app.tenant_id'";

/**
 * Checks the live database against the boundary's invariants. Run it connected as a role that
 * can see every row (the admin role): RLS is forced, so the owner would count zero rows.
 */
export async function runDoctor(client: Client, runtimeRole: string): Promise<DoctorReport> {
  const violations: string[] = [];

  const listed = await client.query<{ oid: number; table: string; enabled: boolean; forced: boolean; owner: string }>(
    `SELECT c.oid::int AS oid, format('%I.%I', n.nspname, c.relname) AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
            pg_get_userbyid(c.relowner) AS owner
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
      ORDER BY 1`,
  );

  // A tenant's schema or a table may be dropped or renamed while the doctor runs (an erasure, a
  // move's clean-up, a warm schema adopted by its tenant): everything about a table is read by its
  // oid, it is named as it is called at the end of its checks, and one gone by then is left out,
  // as if it had never been listed.
  const kept: typeof listed.rows = [];
  const reports: DoctorTableReport[] = [];
  for (const table of listed.rows) {
    const found: string[] = [];
    const policies = await client.query<{ cmd: string; permissive: boolean; qual: string | null; with_check: string | null }>(
      `SELECT CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END AS cmd,
              p.polpermissive AS permissive, pg_get_expr(p.polqual, p.polrelid) AS qual, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
         FROM pg_policy p WHERE p.polrelid = $1`,
      [table.oid],
    );
    const commands = new Set<string>();
    for (const policy of policies.rows) {
      const expressions = [policy.qual, policy.with_check].filter((text): text is string => text !== null);
      const bound = expressions.length > 0 && expressions.every((text) => text.includes(TENANT_PREDICATE));
      if (policy.permissive && !bound) {
        found.push(`a permissive ${policy.cmd} policy does not compare tenant_id with app.tenant_id`);
        continue;
      }
      if (policy.cmd === 'INSERT' && policy.with_check === null) {
        found.push('the INSERT policy has no WITH CHECK');
        continue;
      }
      if (policy.cmd === 'ALL') ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].forEach((cmd) => commands.add(cmd));
      else commands.add(policy.cmd);
    }
    const index = await client.query<{ name: string }>(
      `SELECT i.indexrelid::regclass::text AS name FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
       WHERE i.indrelid = $1 AND a.attname = 'tenant_id'
       ORDER BY i.indisprimary DESC LIMIT 1`,
      [table.oid],
    );
    if (!table.enabled) found.push('row-level security is not enabled');
    if (!table.forced) found.push('row-level security is not forced (the owner bypasses it)');
    for (const cmd of ['SELECT', 'INSERT', 'UPDATE', 'DELETE']) {
      if (!commands.has(cmd)) found.push(`no tenant policy for ${cmd}`);
    }
    const tenantIndex = index.rows[0]?.name ?? null;
    if (!tenantIndex) found.push('no index leads with tenant_id');
    if (table.owner === runtimeRole) found.push(`owned by the runtime role ${runtimeRole}`);
    const now = await client.query<{ table: string }>(
      `SELECT format('%I.%I', n.nspname, c.relname) AS table FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
      [table.oid],
    );
    if (now.rowCount === 0) continue;
    const name = now.rows[0].table;
    kept.push({ ...table, table: name });
    reports.push({ table: name, rlsEnabled: table.enabled, rlsForced: table.forced, commands: [...commands].sort(), tenantIndex });
    violations.push(...found.map((problem) => `${name}: ${problem}`));
  }

  const role = await client.query<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean; member_of: string[] }>(
    `SELECT r.rolsuper, r.rolbypassrls,
            EXISTS (SELECT 1 FROM pg_class c WHERE c.relowner = r.oid) AS owns,
            ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of
       FROM pg_roles r WHERE r.rolname = $1`,
    [runtimeRole],
  );
  const runtime = role.rows[0];
  if (!runtime) violations.push(`runtime role ${runtimeRole} does not exist`);
  else {
    if (runtime.rolsuper) violations.push(`runtime role ${runtimeRole} is a superuser`);
    if (runtime.rolbypassrls) violations.push(`runtime role ${runtimeRole} has BYPASSRLS`);
    if (runtime.owns) violations.push(`runtime role ${runtimeRole} owns relations`);
    if (runtime.member_of.length > 0) violations.push(`runtime role ${runtimeRole} is a member of ${runtime.member_of.join(', ')}`);
  }

  const rowsPerTenant: DoctorReport['rowsPerTenant'] = [];
  for (const table of kept) {
    const counts = await client
      .query<{ tenant_id: string; rows: string }>(`SELECT tenant_id::text, count(*) AS rows FROM ${table.table} GROUP BY tenant_id ORDER BY count(*) DESC LIMIT 20`)
      .catch((error: { code?: string }) => {
        // Dropped since it was checked (3F000: its schema, 42P01: the table).
        if (error.code === '3F000' || error.code === '42P01') return { rows: [] };
        throw error;
      });
    for (const row of counts.rows) rowsPerTenant.push({ table: table.table, tenantId: row.tenant_id, rows: Number(row.rows) });
  }

  const connections = await client.query<{ role: string; application: string; state: string; count: string }>(
    `SELECT coalesce(usename, '') AS role, coalesce(application_name, '') AS application, coalesce(state, '') AS state, count(*) AS count
       FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1, 2, 3 ORDER BY 4 DESC`,
  );

  return {
    violations,
    tables: reports,
    rowsPerTenant,
    connections: connections.rows.map((row) => ({ ...row, count: Number(row.count) })),
  };
}
