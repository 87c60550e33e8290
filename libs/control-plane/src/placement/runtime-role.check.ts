import { DataSource } from 'typeorm';
import { UnsafeDatabaseRoleError } from './placement.errors';

/**
 * RLS does not bind superusers or BYPASSRLS roles, and binds a table's owner only while FORCE is
 * on (which the owner can switch off). The runtime role must be none of these, directly or
 * through membership in a role that is.
 */
export async function assertRuntimeRoleIsBound(dataSource: DataSource): Promise<void> {
  const [role] = await dataSource.query(
    `SELECT current_user AS name, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
            EXISTS (SELECT 1 FROM pg_class c
                     WHERE c.relkind IN ('r', 'p', 'v', 'm')
                       AND c.relnamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))
                       AND pg_has_role(current_user, c.relowner, 'USAGE')) AS owns,
            EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid AND (g.rolsuper OR g.rolbypassrls)) AS inherits
       FROM pg_roles r WHERE r.rolname = current_user`,
  );
  const problems: string[] = [];
  if (role.superuser) problems.push(`${role.name} is a superuser`);
  if (role.bypass) problems.push(`${role.name} has BYPASSRLS`);
  if (role.owns) problems.push(`${role.name} owns (or acts as the owner of) tables`);
  if (role.inherits) problems.push(`${role.name} is a member of a superuser or BYPASSRLS role`);
  if (problems.length > 0) throw new UnsafeDatabaseRoleError(problems.join('; '));
}
