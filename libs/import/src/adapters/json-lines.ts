import { readFile } from 'node:fs/promises';
import { ImportFormatError } from '../canonical/canonical-reader.js';

/**
 * Where every value of a JSON text starts: its path (`results.3.propertiesWithHistory.dealstage.0`,
 * the root is `''`) → 1-based line. Vendor exports are pretty-printed JSON; this is what lets an adapter
 * report `file:line` for a deal or a history entry, like the NDJSON reader does. Call it on text that
 * `JSON.parse` accepted (it does not validate).
 */
function jsonLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const stack: { kind: 'object' | 'array'; path: string; index: number; key: string; expectKey: boolean }[] = [];
  let line = 1;
  const childPath = (): string => {
    const top = stack.at(-1);
    if (!top) return '';
    const segment = top.kind === 'array' ? String(top.index) : top.key;
    return top.path === '' ? segment : `${top.path}.${segment}`;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        top.key = JSON.parse(text.slice(i, j + 1)) as string;
        top.expectKey = false;
      } else lines.set(childPath(), line);
      i = j + 1;
    } else if (c === '{' || c === '[') {
      const path = childPath();
      lines.set(path, line);
      stack.push({ kind: c === '{' ? 'object' : 'array', path, index: 0, key: '', expectKey: c === '{' });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'array') top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === ':' || c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else {
      lines.set(childPath(), line);
      while (i < text.length && !/[,\]}\s]/.test(text[i])) i++;
    }
  }
  return lines;
}

/** The line of `path`, or of its nearest ancestor that has one. */
export function lineAt(lines: ReadonlyMap<string, number>, path: string): number {
  for (let p = path; ; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const line = lines.get(p);
    if (line !== undefined) return line;
    if (p === '') return 1;
  }
}

/** The line a `JSON.parse` error points at (Node names a position or a line), 1 if it names neither. */
function parseErrorLine(text: string, error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  const byLine = /line (\d+)/.exec(message);
  if (byLine) return Number(byLine[1]);
  const byPosition = /position (\d+)/.exec(message);
  if (!byPosition) return 1;
  return text.slice(0, Number(byPosition[1])).split('\n').length;
}

/** A whole JSON file and the lines of its values; unreadable or not JSON: ImportFormatError (the run writes nothing). */
export async function readJsonFile(file: string): Promise<{ json: unknown; lines: Map<string, number> }> {
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).replace(/^\uFEFF/, '');
  } catch (error) {
    throw new ImportFormatError(
      file,
      0,
      `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  try {
    const json: unknown = JSON.parse(text);
    return { json, lines: jsonLines(text) };
  } catch (error) {
    throw new ImportFormatError(
      file,
      parseErrorLine(text, error),
      `not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
