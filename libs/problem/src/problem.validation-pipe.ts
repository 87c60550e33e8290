import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, ValidationProblem } from './problem.error';

function flatten(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}

/**
 * A body DTO may carry a static method under this key: a hand-written check of exactly its
 * class-validator rules, returning the value or throwing `ValidationProblem`. The pipe then uses
 * it instead of class-transformer and class-validator, whose cost grows with every nested object
 * (about 40 ms for a batch of 1,000 events). The decorators stay the documentation (the OpenAPI
 * document is read from them) and the OpenAPI tests hold the two to the same answers.
 */
export const FAST_VALIDATION = Symbol.for('bulkhead.fastValidation');

class ProblemValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const fast = (metadata.metatype as { [FAST_VALIDATION]?: (value: unknown) => unknown } | undefined)?.[FAST_VALIDATION];
    if (metadata.type === 'body' && typeof fast === 'function') return fast(value);
    return super.transform(value, metadata);
  }
}

/**
 * Validation for every DTO: unknown properties are refused (so a body carrying `tenant_id` is a
 * 400, not silently ignored) and no implicit type conversion turns "12" into 12 in a body.
 */
export function problemValidationPipe(): ValidationPipe {
  return new ProblemValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new ValidationProblem(flatten(errors)),
  });
}
