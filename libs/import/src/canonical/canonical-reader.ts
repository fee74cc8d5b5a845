import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Ajv2019, type ErrorObject } from 'ajv/dist/2019.js';
import { realDateTime } from '../calendar.js';
import { CANONICAL_RECORD_SCHEMA } from './canonical-record.schema.js';
import type { CanonicalRecord, HeaderRecord, SourcedLine } from './canonical-records.js';

/** The input is not a canonical import file at all (wrong format, no header): nothing of it is imported. */
export class ImportFormatError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'ImportFormatError';
  }
}

const ajv = new Ajv2019({ discriminator: true, allErrors: false, strict: true, strictRequired: false });
const validateRecord = ajv.compile<CanonicalRecord>(CANONICAL_RECORD_SCHEMA);

/** Longest line read (a record is small; a runaway line is a broken file, not a record to buffer). */
const MAX_LINE_LENGTH = 1_000_000;

/** The first error of a line in one sentence: where in the record, and what is wrong there. */
function describe(errors: readonly ErrorObject[] | null | undefined): string {
  const error = errors?.[0];
  if (!error) return 'not a canonical record';
  const where = error.instancePath === '' ? 'record' : error.instancePath.slice(1).replaceAll('/', '.');
  if (error.keyword === 'pattern' && /at$|At$/.test(error.instancePath))
    return `${where} must be an ISO 8601 instant with a zone (Z or ±hh:mm)`;
  if (error.keyword === 'pattern' && String(error.params.pattern).includes('p{Cc}'))
    return `${where} must be one line without control characters or lone surrogates`;
  if (error.keyword === 'type' && error.params.type === 'integer') return `${where} must be an integer (minor units)`;
  if (error.keyword === 'additionalProperties')
    return `${where} has an unknown field "${String(error.params.additionalProperty)}"`;
  if (error.keyword === 'discriminator') {
    const { tag, tagValue } = error.params as { tag: string; tagValue: unknown };
    return error.params.error === 'mapping' ? `unknown ${tag} ${JSON.stringify(tagValue)}` : `${tag} must be a string`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Parses and validates one line; `undefined` for a blank line. */
export function parseCanonicalLine(text: string, ref: { file: string; line: number }): SourcedLine | undefined {
  if (text.trim() === '') return undefined;
  if (text.length > MAX_LINE_LENGTH) return { ref, error: `line longer than ${MAX_LINE_LENGTH} characters` };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ref, error: `malformed JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  // The hint (which deal or pipeline a broken line belongs to) only for a broken line: most are not.
  if (!validateRecord(value)) return { ref, error: describe(validateRecord.errors), hint: hintOf(value) };
  if ('at' in value && (Number.isNaN(Date.parse(value.at)) || !realDateTime(value.at)))
    return { ref, error: `at is not a real instant: ${value.at}`, hint: hintOf(value) };
  return { ref, record: value };
}

/** What a broken line still says about which deal or pipeline it belongs to. */
function hintOf(value: unknown): { type?: string; deal?: string; pipeline?: string } {
  if (typeof value !== 'object' || value === null) return {};
  const record = value as Record<string, unknown>;
  const text = (key: string) => (typeof record[key] === 'string' ? record[key] : undefined);
  const type = text('type');
  const deal = type === 'deal' ? text('sourceId') : type === 'deal-change' ? text('deal') : undefined;
  const pipeline = type === 'pipeline' ? text('sourceId') : type === 'pipeline-change' ? text('pipeline') : undefined;
  return {
    ...(type !== undefined ? { type } : {}),
    ...(deal !== undefined ? { deal } : {}),
    ...(pipeline !== undefined ? { pipeline } : {}),
  };
}

/**
 * Streams canonical NDJSON files line by line (never the whole file in memory). The first record of
 * every file must be its header; all files must name the same source system. Yields the header first,
 * then every other line, valid or not, with its file and line number.
 */
export function readCanonicalFiles(files: readonly string[]): AsyncGenerator<SourcedLine> {
  // Marked with its files: `runHistoricImport` reads these on its worker instead (this generator is
  // then never started).
  const source = { files: [...files], started: false };
  return Object.assign(readLines(source), { [CANONICAL_FILES]: source });
}

const CANONICAL_FILES = Symbol('canonical files');

/** The files `readCanonicalFiles` was given, for its lines not read yet; else undefined. */
export function canonicalFilesOf(lines: AsyncIterable<SourcedLine>): readonly string[] | undefined {
  const source = (lines as { [CANONICAL_FILES]?: { files: readonly string[]; started: boolean } })[CANONICAL_FILES];
  return source && !source.started ? source.files : undefined;
}

async function* readLines(source: {
  readonly files: readonly string[];
  started: boolean;
}): AsyncGenerator<SourcedLine> {
  source.started = true;
  const { files } = source;
  let sourceSystem: string | undefined;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
    let lineNo = 0;
    let header: HeaderRecord | undefined;
    for await (const text of lines) {
      lineNo++;
      const parsed = parseCanonicalLine(lineNo === 1 ? text.replace(/^\uFEFF/, '') : text, { file, line: lineNo });
      if (!parsed) continue;
      if (!header) {
        if (parsed.record?.type !== 'header') {
          lines.close();
          throw new ImportFormatError(
            file,
            lineNo,
            `not a canonical import file: the first record must be {"type":"header","format":"dealstream-canonical","version":1,…}${parsed.error ? ` (${parsed.error})` : ''}`,
          );
        }
        header = parsed.record;
        if (sourceSystem !== undefined && header.sourceSystem !== sourceSystem) {
          lines.close();
          throw new ImportFormatError(
            file,
            lineNo,
            `source system ${header.sourceSystem} differs from ${sourceSystem} of the files before`,
          );
        }
        if (sourceSystem === undefined) {
          sourceSystem = header.sourceSystem;
          yield parsed;
        }
        continue;
      }
      if (parsed.record?.type === 'header') {
        yield { ref: parsed.ref, error: 'a second header inside the file' };
        continue;
      }
      yield parsed;
    }
    if (!header) throw new ImportFormatError(file, lineNo, 'empty file: no header record');
  }
}
