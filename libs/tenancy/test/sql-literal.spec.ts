import { toSqlLiteral } from '../src/data/sql-literal';
import { TenantBoundaryViolationError } from '../src/data/boundary.errors';

describe('values inlined as literals in the one-round-trip read', () => {
  it('quotes strings so no value can end the literal', () => {
    expect(toSqlLiteral("O'Brien")).toBe("'O''Brien'");
    expect(toSqlLiteral('back\\slash')).toBe(" E'back\\\\slash'");
    expect(toSqlLiteral("'); DROP TABLE customers; --")).toBe("'''); DROP TABLE customers; --'");
  });

  it('renders scalars and refuses anything else', () => {
    expect(toSqlLiteral(null)).toBe('NULL');
    expect(toSqlLiteral(42)).toBe('42');
    expect(toSqlLiteral(-1)).toBe('(-1)');
    // Parenthesised: `x -` followed by a negative number must never become the comment `--1`.
    expect(`SELECT 1 -${toSqlLiteral(-1)}`).toBe('SELECT 1 -(-1)');
    expect(toSqlLiteral(true)).toBe('TRUE');
    expect(toSqlLiteral(new Date('2026-01-02T03:04:05.000Z'))).toBe("'2026-01-02T03:04:05.000Z'");
    expect(() => toSqlLiteral(Number.NaN)).toThrow(TenantBoundaryViolationError);
    expect(() => toSqlLiteral({ toString: () => "1; DROP" })).toThrow(TenantBoundaryViolationError);
    expect(() => toSqlLiteral(['a'])).toThrow(TenantBoundaryViolationError);
  });
});
