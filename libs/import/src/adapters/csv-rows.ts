import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { LineRef } from '../canonical/canonical-records.js';

/** A CSV data row by its header's column names, or why it is unusable (with what could be read of it). */
export type CsvRow =
  | { readonly ref: LineRef; readonly values: Readonly<Record<string, string>>; readonly error?: undefined }
  | { readonly ref: LineRef; readonly values: Readonly<Record<string, string>>; readonly error: string };

/** The header row of a CSV file (trimmed column names), read without reading the rest. */
export async function csvHeader(file: string): Promise<string[]> {
  for await (const { columns } of csvRecords(file)) return columns;
  return [];
}

/**
 * Streams a CSV file (RFC 4180, a UTF-8 BOM allowed, as Salesforce's Data Loader and Bulk API write
 * it): the first row names the columns; every other row comes with the line it starts on. A row with
 * another number of fields than the header is yielded as an error (its fields by position, so the
 * adapter can still tell whose row it was). A quote never closed makes the rest of the file
 * unreadable: ImportFormatError.
 */
export async function* csvRows(file: string): AsyncGenerator<CsvRow> {
  for await (const { columns, fields, ref } of csvRecords(file)) {
    if (!fields) continue;
    const values: Record<string, string> = {};
    columns.forEach((column, i) => {
      if (i < fields.length) values[column] = fields[i]!;
    });
    if (fields.length !== columns.length) {
      yield { ref, values, error: `the row has ${fields.length} fields, the header ${columns.length}` };
    } else yield { ref, values };
  }
}

async function* csvRecords(file: string): AsyncGenerator<{ columns: string[]; fields?: string[]; ref: LineRef }> {
  const source = createReadStream(file);
  const parser = source.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  let columns: string[] | undefined;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // info.lines is where the row ends; a quoted field can span lines.
      const newlines = record.reduce((n, field) => n + (field.match(/\n/g)?.length ?? 0), 0);
      const ref = { file, line: info.lines - newlines };
      if (!columns) {
        columns = record.map((column) => column.trim());
        yield { columns, ref };
        continue;
      }
      yield { columns, fields: record, ref };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines ?? 0;
      throw new ImportFormatError(file, line, `not readable as CSV: ${error.message}`);
    }
    if (error instanceof Error && 'code' in error && typeof error.code === 'string' && error.code.startsWith('E'))
      throw new ImportFormatError(file, 0, `cannot read the file: ${error.message}`);
    throw error;
  } finally {
    // Also when the reader stops early (csvHeader): close the file, not only the parser.
    parser.destroy();
    source.destroy();
  }
}
