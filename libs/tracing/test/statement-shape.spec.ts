import { statementShape } from '../src/statement-shape';

/** What a query span says of a statement: its shape, never the values it carries. */
describe('statementShape', () => {
  it.each([
    ["SELECT e.\"id\" AS c0 FROM orders e WHERE e.tenant_id = '5d0c6f8e-1b7a-4c1e-9a57-2b8e4c7d9f10' AND e.\"id\" = 'a1' LIMIT 21", 'SELECT e."id" AS c0 FROM orders e WHERE e.tenant_id = ? AND e."id" = ? LIMIT ?'],
    ["INSERT INTO customers (email, name) VALUES ('ann@example.com', 'O''Brien')", 'INSERT INTO customers (email, name) VALUES (?, ?)'],
    ["SELECT audit_append('t'::uuid, E'line\\\\nwith \\' quote', '\\x0a0b'::bytea, 12.5e3, -7)", 'SELECT audit_append(?::uuid, ?, ?::bytea, ?, -?)'],
    ['SELECT $tag$ secret $$ still $tag$, $$x$$, $1, t_0a1b2c.orders, col2', 'SELECT ?, ?, $1, t_0a1b2c.orders, col2'],
    ["BEGIN READ ONLY; SELECT set_config('app.tenant_id', 'abc', true); SELECT 1; COMMIT", 'BEGIN READ ONLY; SELECT set_config(?, ?, true); SELECT ?; COMMIT'],
  ])('%s', (text, shape) => {
    expect(statementShape(text)).toBe(shape);
  });

  it('cuts at a quote left open rather than export what follows it', () => {
    expect(statementShape("SELECT 'closed', 'open secret@example.com")).toBe('SELECT ?, ?');
    expect(statementShape('SELECT $q$ never closed secret')).toBe('SELECT ?');
  });

  it('keeps a long shape short', () => {
    const shape = statementShape(`SELECT ${'c, '.repeat(2000)}1`);
    expect(shape.length).toBeLessThanOrEqual(2001);
    expect(shape.endsWith('…')).toBe(true);
  });
});
