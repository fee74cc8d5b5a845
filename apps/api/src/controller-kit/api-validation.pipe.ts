import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { ApiProblem } from '../problem/api-problem.js';

/**
 * The API's one ValidationPipe (global, and on the lean command routes): class-validator on the
 * DTO-typed parameters, unknown properties refused, a failure answered as 400 `validation-failed`
 * with one `{ field, messages }` per failing property (nested ones as `parent.child`).
 */
export function apiValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) =>
      new ApiProblem(400, 'validation-failed', 'The request is invalid; see errors', { errors: flatten(errors) }),
  });
}

function flatten(errors: ValidationError[], parent = ''): { field: string; messages: string[] }[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = error.constraints ? [{ field, messages: Object.values(error.constraints) }] : [];
    return [...own, ...flatten(error.children ?? [], field)];
  });
}
