import { buildMessage, isRFC3339, ValidateBy, ValidationOptions } from 'class-validator';
import { rfc3339Instant } from './rfc3339-instant';

/**
 * An RFC 3339 date-time that names an instant: `IsRFC3339` is only a pattern (it lets 2026-02-30
 * through), and the readers behind these fields take times through `rfc3339Instant`.
 */
export function IsRfc3339Instant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isRfc3339Instant',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && isRFC3339(value) && rfc3339Instant(value) !== undefined,
        defaultMessage: buildMessage((each) => `${each}$property must be an RFC 3339 date-time that names an instant`, options),
      },
    },
    options,
  );
}
