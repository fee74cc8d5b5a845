import type { CompiledQuery } from 'kysely';

/**
 * A statement whose text depends only on `key` (a schema, a database), compiled by Kysely the first
 * time and kept in `cache`; each call runs that text with `parameters` in place of the ones it was
 * compiled with — or, none given, with those (a statement whose values are all constants). For hot
 * statements asked after every batch or command, where building the same text again cost 1–3% of the
 * API's CPU (test/benchmarks/README.md, "Command CPU d"). Given parameters must match the compiled
 * statement's in number and order: the number is checked once.
 */
export function compiledOnce<K, R>(
  cache: CompiledCache<K, R>,
  key: K,
  compile: () => CompiledQuery<R>,
  parameters?: readonly unknown[],
): CompiledQuery<R> {
  let compiled = cache.get(key);
  if (!compiled) {
    compiled = compile();
    if (parameters && compiled.parameters.length !== parameters.length)
      throw new Error(
        `compiledOnce: the statement binds ${compiled.parameters.length} parameters, not ${parameters.length}`,
      );
    cache.set(key, compiled);
  }
  return parameters ? { ...compiled, parameters } : compiled;
}

/** Where `compiledOnce` keeps its statements: a Map, or a WeakMap when the key is an object. */
export interface CompiledCache<K, R> {
  get(key: K): CompiledQuery<R> | undefined;
  set(key: K, compiled: CompiledQuery<R>): unknown;
}
