import { splitStatements } from '../src/sql-statements';

/** The cut the migration runner makes on a Citus coordinator, where each statement travels alone. */
describe('splitStatements', () => {
  it('cuts where PostgreSQL would, not at every semicolon', async () => {
    const sql = `-- a comment; with a semicolon, and a non-ASCII character: ’
CREATE TABLE t (id int, note text CHECK (note <> ';'));
/* a block; comment /* nested; */ still in it */
CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $body$
BEGIN
  PERFORM 1; PERFORM 'é;';
END;
$body$;
SELECT E'it\\'s; fine', 'plain '';'' too';`;
    const statements = await splitStatements(sql);
    expect(statements).toHaveLength(3);
    // Leading comments are not part of a statement; offsets count bytes, and '’' is three of them.
    expect(statements[0]).toBe(`CREATE TABLE t (id int, note text CHECK (note <> ';'))`);
    expect(statements[1]).toMatch(/CREATE FUNCTION f\(\).*PERFORM 'é;';\nEND;\n\$body\$$/s);
    expect(statements[2]).toBe(`SELECT E'it\\'s; fine', 'plain '';'' too'`);
  });

  it('returns nothing for a file of comments only', async () => {
    expect(await splitStatements('-- nothing to run\n/* here */\n')).toEqual([]);
  });
});
