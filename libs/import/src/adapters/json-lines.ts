import { open, readFile } from 'node:fs/promises';
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

/** One element of a JSON file's item array, parsed, with the line of any path inside it. */
export interface JsonItem {
  readonly index: number;
  readonly value: unknown;
  /** The line of `path` inside the item (`''`: the item itself), or of its nearest ancestor. */
  readonly lineOf: (path: string) => number;
}

/**
 * Streams the elements of a JSON file's item array — the root array, or the array under `key` of a
 * root object (`{"results": […], "paging": …}`) — one at a time, each parsed on its own with the lines
 * of its values: a vendor export is never held whole (memory: one item). Brackets and strings outside
 * the items are only checked for balance. A file that is not JSON (a broken item, unbalanced brackets,
 * text after the end) throws ImportFormatError with its line, once the reader gets there; a JSON file
 * without such an array throws ImportFormatError(`shapeError`) at its end. Adapters read a file once to
 * check it (nothing written on a broken file) and again to import it.
 */
export async function* jsonArrayItems(file: string, key: string, shapeError: string): AsyncGenerator<JsonItem> {
  let source: AsyncIterable<string>;
  try {
    const handle = await open(file);
    source = handle.createReadStream({ encoding: 'utf8', highWaterMark: 256 * 1024 }) as AsyncIterable<string>;
  } catch (error) {
    throw new ImportFormatError(
      file,
      0,
      `cannot read the file: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  let line = 1;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let rootSeen = false;
  let rootClosed = false;
  /** Depth inside the item array (its elements start there), 0 while outside it. */
  let itemDepth = 0;
  let arrayFound = false;
  // Keys of the root object: the string just read at depth 1, and whether a key is expected there.
  let expectKey = false;
  let lastKey: string | undefined;
  let keyStart = -1;
  let keyParts: string[] = [];
  // The item being read: its text so far (whole chunks), where it starts in the current chunk, its line.
  let parts: string[] | undefined;
  let start = 0;
  let itemLine = 0;
  let index = 0;
  const notJson = (reason: string) => new ImportFormatError(file, line, `not JSON: ${reason}`);
  const finishItem = (chunk: string, end: number): JsonItem => {
    parts!.push(chunk.slice(start, end));
    const text = parts!.join('');
    parts = undefined;
    const first = itemLine;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new ImportFormatError(file, first - 1 + parseErrorLine(text, error), `not JSON: ${message}`);
    }
    const lines = jsonLines(text);
    return { index: index++, value, lineOf: (path: string) => first - 1 + lineAt(lines, path) };
  };
  for await (let chunk of source) {
    if (!rootSeen && line === 1 && chunk.startsWith('\uFEFF')) chunk = chunk.slice(1);
    const items: JsonItem[] = [];
    if (parts) start = 0;
    if (keyStart >= 0) keyStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10) line++;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) {
          inString = false;
          if (keyStart >= 0) {
            keyParts.push(chunk.slice(keyStart, i + 1));
            try {
              lastKey = JSON.parse(keyParts.join('')) as string;
            } catch {
              throw notJson('a key is not a JSON string');
            }
            keyStart = -1;
            keyParts = [];
            expectKey = false;
          }
        }
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9) continue;
      if (rootClosed) throw notJson('text after the end of the JSON value');
      if (itemDepth > 0 && depth === itemDepth && !parts && c !== 44 && c !== 93) {
        parts = [];
        start = i;
        itemLine = line;
      }
      if (depth === 0 && c !== 123 && c !== 91) throw notJson('the file is not a JSON array or object');
      if (c === 34) {
        inString = true;
        if (depth === 1 && !arrayFound && expectKey && itemDepth === 0) keyStart = i;
      } else if (c === 123 || c === 91) {
        if (depth === 0) {
          rootSeen = true;
          if (c === 91) {
            itemDepth = 1;
            arrayFound = true;
          } else expectKey = true;
        } else if (depth === 1 && c === 91 && itemDepth === 0 && !arrayFound && lastKey === key) {
          itemDepth = 2;
          arrayFound = true;
        }
        depth++;
      } else if (c === 125 || c === 93) {
        if (depth === 0) throw notJson(`unexpected ${String.fromCharCode(c)}`);
        depth--;
        if (parts && depth === itemDepth) items.push(finishItem(chunk, i + 1));
        else if (parts && depth < itemDepth) items.push(finishItem(chunk, i)); // a primitive last item
        if (depth < itemDepth) itemDepth = 0;
        if (depth === 0) rootClosed = true;
      } else if (c === 44) {
        if (parts && depth === itemDepth) items.push(finishItem(chunk, i));
        if (depth === 1 && itemDepth !== 1) expectKey = true;
      }
    }
    if (parts) parts.push(chunk.slice(start));
    if (keyStart >= 0) keyParts.push(chunk.slice(keyStart));
    yield* items;
  }
  if (!rootClosed) throw notJson(rootSeen ? 'unexpected end of the file' : 'the file is empty');
  if (!arrayFound) throw new ImportFormatError(file, 1, shapeError);
}
