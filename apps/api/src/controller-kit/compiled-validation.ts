import type { ArgumentMetadata, PipeTransform, Type } from '@nestjs/common';
import { TransformationType } from 'class-transformer';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage, ValidationTypes, type ValidationArguments } from 'class-validator';

/**
 * The API's ValidationPipe with a fast path for flat request bodies and query strings.
 *
 * The ValidationPipe answers a body (or a query: `@Query()` with a DTO) by building the DTO with
 * class-transformer and validating it with class-validator, each walking the class's metadata again
 * on every request (10% of the API's CPU per command in the profile, test/benchmarks/README.md
 * "Command CPU d"; ~4% of a `GET /events` page, "2026-12-07 f"). For a DTO whose
 * fields are all plain (no nested DTO, no `@Type`/`@Transform`/`@Expose`/`@Exclude`, no `each`, no
 * async rule), the same metadata is read once into a list of checks per property: the DTO's own
 * `@ValidateIf`s (`Optional`) and its constraints' own `validate` functions, called with the same
 * arguments class-validator passes. A body or query that is a plain object (a query string's is
 * Fastify's object whose prototype has none) of known properties holding strings, numbers, booleans or null
 * (a repeated query parameter is an array: the pipe's), and that passes every check, is answered
 * with the DTO built as class-transformer builds it (`new Dto()`, then the properties in their order).
 *
 * Anything else — a failed check, an unknown property, a nested value, a DTO that does not compile —
 * goes to the ValidationPipe itself. So every refusal (the `validation-failed` problem and its
 * messages) is the pipe's by construction, and the fast path only ever accepts what the pipe accepts
 * (held equal by compiled-validation.unit.spec.ts over every command DTO and every query DTO).
 */
export class CompiledValidationPipe implements PipeTransform {
  private readonly compiled = new Map<Type, CompiledBody | null>();

  constructor(private readonly pipe: PipeTransform) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if ((metadata.type === 'body' || metadata.type === 'query') && typeof metadata.metatype === 'function') {
      const accepted = this.compiledOf(metadata.metatype)?.(value);
      if (accepted !== undefined) return accepted;
    }
    return this.pipe.transform(value, metadata);
  }

  /** The compiled check of a DTO class, or null when it uses something only the pipe handles. */
  compiledOf(metatype: Type): CompiledBody | null {
    let compiled = this.compiled.get(metatype);
    if (compiled === undefined) {
      compiled = compileBody(metatype);
      this.compiled.set(metatype, compiled);
    }
    return compiled;
  }
}

/** The DTO instance for an accepted body; undefined for anything the ValidationPipe must answer. */
export type CompiledBody = (value: unknown) => object | undefined;

interface PropertyChecks {
  readonly name: string;
  readonly conditions: readonly ((object: object, value: unknown) => boolean)[];
  readonly rules: readonly Rule[];
}

interface Rule {
  readonly validateIf?: (object: object, value: unknown) => boolean;
  readonly constraints: unknown[];
  readonly validators: readonly { validate(value: unknown, args: ValidationArguments): unknown }[];
}

/** Classes the ValidationPipe does not validate (its `toValidate`). */
const PRIMITIVE_TYPES: readonly unknown[] = [String, Boolean, Number, Array, Object, Buffer, Date];

interface ValidationMetadataLike {
  readonly type: string;
  readonly propertyName: string;
  readonly constraints: unknown[];
  readonly constraintCls: unknown;
  readonly each?: boolean;
  readonly validateIf?: (object: object, value: unknown) => boolean;
}

function compileBody(metatype: Type): CompiledBody | null {
  if (PRIMITIVE_TYPES.includes(metatype)) return null;
  // class-transformer skips accessors and methods when it copies a body onto the instance.
  for (let proto = metatype.prototype as object | null; proto && proto !== Object.prototype;) {
    if (Object.getOwnPropertyNames(proto).some((name) => name !== 'constructor')) return null;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (
    defaultMetadataStorage.getExposedMetadatas(metatype).length > 0 ||
    defaultMetadataStorage.getExcludedMetadatas(metatype).length > 0
  )
    return null;
  const storage = getMetadataStorage();
  // The metadata class-validator reads for `validate(instance)` with the pipe's options (no groups).
  const metadatas = storage.getTargetValidationMetadatas(metatype, '', false, false, undefined) as unknown as
    ValidationMetadataLike[] | undefined;
  // None at all: forbidUnknownValues refuses the body — the pipe says so.
  if (!metadatas || metadatas.length === 0) return null;
  const byProperty = new Map<string, ValidationMetadataLike[]>();
  for (const metadata of metadatas) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties: PropertyChecks[] = [];
  for (const [name, list] of byProperty) {
    if (
      defaultMetadataStorage.findTypeMetadata(metatype, name) !== undefined ||
      defaultMetadataStorage.findTransformMetadatas(metatype, name, TransformationType.PLAIN_TO_CLASS).length > 0
    )
      return null;
    const conditions: PropertyChecks['conditions'][number][] = [];
    const rules: Rule[] = [];
    for (const metadata of list) {
      switch (metadata.type) {
        case ValidationTypes.CONDITIONAL_VALIDATION:
          conditions.push(metadata.constraints[0] as PropertyChecks['conditions'][number]);
          break;
        case ValidationTypes.CUSTOM_VALIDATION:
        case ValidationTypes.IS_DEFINED: {
          if (metadata.each) return null;
          const constraints = storage.getTargetValidatorConstraints(metadata.constraintCls as Type);
          if (constraints.length === 0 || constraints.some((constraint) => constraint.async)) return null;
          rules.push({
            ...(metadata.validateIf ? { validateIf: metadata.validateIf } : {}),
            constraints: metadata.constraints,
            validators: constraints.map(
              (constraint) => constraint.instance as { validate(value: unknown, args: ValidationArguments): unknown },
            ),
          });
          break;
        }
        case ValidationTypes.WHITELIST:
          break;
        default:
          // Nested and promise validation: the pipe's.
          return null;
      }
    }
    properties.push({ name, conditions, rules });
  }
  const known = new Set(byProperty.keys());
  const targetName = metatype.name;
  return (value) => {
    // A plain object: its prototype a realm's Object.prototype (what JSON.parse gives) or another
    // object without a prototype (fast-querystring's `new Empty()` for a query string).
    if (typeof value !== 'object' || value === null) return undefined;
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto === null || Object.getPrototypeOf(proto) !== null) return undefined;
    const keys = Object.keys(value);
    for (const key of keys) {
      if (!known.has(key)) return undefined;
      const field = (value as Record<string, unknown>)[key];
      if (field !== null && typeof field === 'object') return undefined;
    }
    const entity = new metatype() as Record<string, unknown>;
    for (const key of keys) entity[key] = (value as Record<string, unknown>)[key];
    for (const { name, conditions, rules } of properties) {
      const field = entity[name];
      if (!conditions.every((condition) => condition(entity, field))) continue;
      for (const rule of rules) {
        if (rule.validateIf && !rule.validateIf(entity, field)) continue;
        const args: ValidationArguments = {
          targetName,
          property: name,
          object: entity,
          value: field,
          constraints: rule.constraints,
        };
        for (const validator of rule.validators) {
          const valid = validator.validate(field, args);
          if (!valid || typeof (valid as { then?: unknown }).then === 'function') return undefined;
        }
      }
    }
    return entity;
  };
}
