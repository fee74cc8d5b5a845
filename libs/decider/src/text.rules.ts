/* eslint-disable no-control-regex -- these patterns look for control characters on purpose: refusing them is their job */
/*
 * What every text value must be before it becomes event data: something PostgreSQL `text` and
 * `jsonb` columns can hold and a person could have typed.
 *
 * - No lone UTF-16 surrogates (U+D800–U+DFFF without its pair): JSON allows `"\ud800"`, but it is
 *   not a Unicode scalar value, has no UTF-8 encoding, and `jsonb` refuses it.
 * - No NUL and no other C0/C1 control characters (U+0000–U+001F, U+007F–U+009F): PostgreSQL `text`
 *   and `jsonb` cannot hold NUL at all; the others are invisible and only ever arrive by accident or
 *   attack. Multi-line fields (notes, reasons, outcomes) may hold tab, line feed and carriage return.
 */

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

export type TextKind = 'single-line' | 'multi-line';

/** True when the string is well-formed UTF-16 (every surrogate paired). */
export function isWellFormedText(value: string): boolean {
  return !LONE_SURROGATE.test(value);
}

/**
 * Why `value` may not be stored as text of this kind, or undefined when it may.
 *
 * @example textFault('ACME\u0000') // 'control-character'
 * @example textFault('line 1\nline 2', 'multi-line') // undefined
 */
export function textFault(
  value: string,
  kind: TextKind = 'single-line',
): 'lone-surrogate' | 'control-character' | undefined {
  if (!isWellFormedText(value)) return 'lone-surrogate';
  if ((kind === 'single-line' ? CONTROL_SINGLE_LINE : CONTROL_MULTI_LINE).test(value)) return 'control-character';
  return undefined;
}

/** The rule in words, for error messages. */
export function textRule(kind: TextKind): string {
  return kind === 'single-line'
    ? 'no control characters and no lone surrogates'
    : 'no control characters other than tab and line breaks, and no lone surrogates';
}
