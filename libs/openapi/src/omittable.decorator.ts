import { ValidateIf, ValidationOptions } from 'class-validator';

/** The condition behind `IsOmittable`; the document builder recognises it by identity. */
export function isPresent(_object: object, value: unknown): boolean {
  return value !== undefined;
}

/**
 * Like `IsOptional`, except that only an absent property skips validation: `null` is validated
 * like any other value, and so refused by the property's type checks. `IsOptional` lets `null`
 * through, which for a NOT NULL column turns into a database error instead of a 400; use this
 * for every optional property that cannot be cleared, and keep `IsOptional` where null means
 * "clear it" (the document then says `nullable`).
 */
export function IsOmittable(options?: ValidationOptions): PropertyDecorator {
  return ValidateIf(isPresent, options);
}
