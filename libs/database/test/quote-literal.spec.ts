import { quoteLiteral } from '@bulkhead/database';
import { randomInt } from 'node:crypto';
import { escapeLiteral } from 'pg';

describe('quoteLiteral', () => {
  it("writes every string exactly as pg's escapeLiteral does", () => {
    const alphabet = ["'", '\\', '"', 'a', 'Z', '0', ' ', '\n', '\t', 'é', '€', '😀', '$', 'E', ';', '-'];
    for (let i = 0; i < 2000; i++) {
      const value = Array.from({ length: randomInt(0, 40) }, () => alphabet[randomInt(alphabet.length)]).join('');
      expect(quoteLiteral(value)).toBe(escapeLiteral(value));
    }
    expect(quoteLiteral("\\'")).toBe(escapeLiteral("\\'"));
  });
});
