import { Transform } from 'class-transformer';

/** A decimal integer as people write one: no exponent, hex, padding or leading zeros. */
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;

/**
 * An integer query parameter. `@Type(() => Number)` hands the text to `Number`, which reads
 * `1e1`, `0x10`, ` 5` and `5 ` as numbers, so a limit spelled any of those ways was obeyed; here
 * only a plain decimal becomes a number, and anything else stays text for `@IsInt()` to refuse.
 */
export function QueryInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value));
}
