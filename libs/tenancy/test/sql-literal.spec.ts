import { inlineParameters, toSqlLiteral } from '../src/data/sql-literal';
import { TenantBoundaryViolationError } from '../src/data/boundary.errors';

describe('inlining bind parameters for the one-round-trip read', () => {
  it('quotes strings so no value can end the literal', () => {
    expect(toSqlLiteral("O'Brien")).toBe("'O''Brien'");
    expect(toSqlLiteral('back\\slash')).toBe(" E'back\\\\slash'");
    expect(toSqlLiteral("'); DROP TABLE customers; --")).toBe("'''); DROP TABLE customers; --'");
  });

  it('renders scalars and refuses anything else', () => {
    expect(toSqlLiteral(null)).toBe('NULL');
    expect(toSqlLiteral(42)).toBe('42');
    expect(toSqlLiteral(-1)).toBe('(-1)');
    expect(inlineParameters('SELECT 1 -$1', [-1])).toBe('SELECT 1 -(-1)');
    expect(toSqlLiteral(true)).toBe('TRUE');
    expect(toSqlLiteral(new Date('2026-01-02T03:04:05.000Z'))).toBe("'2026-01-02T03:04:05.000Z'");
    expect(() => toSqlLiteral(Number.NaN)).toThrow(TenantBoundaryViolationError);
    expect(() => toSqlLiteral({ toString: () => "1; DROP" })).toThrow(TenantBoundaryViolationError);
    expect(() => toSqlLiteral(['a'])).toThrow(TenantBoundaryViolationError);
  });

  it('replaces $n only outside quoted strings and identifiers', () => {
    expect(inlineParameters(`SELECT "a$1" FROM t WHERE x = $1 AND y = '$2' AND z = $2 LIMIT $10`, ['v', 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(
      `SELECT "a$1" FROM t WHERE x = 'v' AND y = '$2' AND z = 2 LIMIT 10`,
    );
    expect(() => inlineParameters('SELECT $3', [1])).toThrow(TenantBoundaryViolationError);
    expect(() => inlineParameters("SELECT 'open", [])).toThrow(TenantBoundaryViolationError);
  });
});
