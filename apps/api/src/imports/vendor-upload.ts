import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { VENDOR_FORMATS, type VendorFormat } from '@dealstream/import';
import { ApiProblem } from '../problem/api-problem.js';

/** A vendor export posted as multipart/form-data, its parts written to files of a temporary folder. */
export interface VendorUpload {
  readonly format: VendorFormat;
  readonly stageMap: string;
  readonly files: readonly string[];
  /** Temporary path → the name the client gave the part (what reports and errors show). */
  readonly names: ReadonlyMap<string, string>;
}

export const MULTIPART = 'multipart/form-data';

/** What a client may name a part: a file name without folders, reduced to a safe set of characters. */
function safeName(name: string | undefined, fallback: string): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^A-Za-z0-9._ -]/g, '_').slice(0, 100);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? fallback : cleaned;
}

const invalid = (detail: string) => new ApiProblem(400, 'invalid-upload', detail);

/**
 * Reads a vendor export from the raw Node request (framework-neutral: express hands it over as is,
 * Fastify as `request.raw`) with busboy, each file part streamed to `dir`:
 * - field `format`: `salesforce`, `hubspot` or `pipedrive`;
 * - file part `stageMap`: the stage map (docs/import.md, "The stage map");
 * - file parts `files` (one or more): the vendor's export files (Salesforce: Opportunity and
 *   OpportunityHistory CSV; HubSpot: deal pages; Pipedrive: deals and flows).
 * At most `limitBytes` in all (past it the rest is read and dropped, then 413 `body-too-large`); any
 * other part, a missing one or a broken multipart body: 400 `invalid-upload`.
 */
export async function readVendorUpload(
  request: IncomingMessage,
  dir: string,
  limitBytes: number,
): Promise<VendorUpload> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: request.headers, limits: { fields: 10, files: 1000, fieldSize: 1024, parts: 1100 } });
  } catch (error) {
    throw invalid(`Not a multipart/form-data body: ${error instanceof Error ? error.message : String(error)}`);
  }
  let format: string | undefined;
  let stageMap: string | undefined;
  const files: string[] = [];
  const names = new Map<string, string>();
  const problems: ApiProblem[] = [];
  const writes: Promise<void>[] = [];
  let size = 0;
  let count = 0;
  parser.on('field', (name, value) => {
    if (name === 'format') format = value;
    else problems.push(invalid(`Unknown field ${JSON.stringify(name)}: send format, stageMap and files`));
  });
  parser.on('file', (name, stream, info) => {
    if (name !== 'stageMap' && name !== 'files') {
      problems.push(invalid(`Unknown part ${JSON.stringify(name)}: send format, stageMap and files`));
      stream.resume();
      return;
    }
    if (name === 'stageMap' && stageMap !== undefined) {
      problems.push(invalid('One stageMap part, please'));
      stream.resume();
      return;
    }
    count++;
    const shown = safeName(info.filename, name === 'stageMap' ? 'stage-map.json' : `file-${count}`);
    const path = join(dir, `${count}-${shown}`);
    names.set(path, shown);
    if (name === 'stageMap') stageMap = path;
    else files.push(path);
    const out = createWriteStream(path);
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
    });
    // Past the limit the rest is read and dropped: the client gets its 413 on a connection still whole.
    writes.push(
      pipeline(
        stream,
        async function* (source: AsyncIterable<Buffer>) {
          for await (const chunk of source) if (size <= limitBytes) yield chunk;
        },
        out,
      ),
    );
  });
  const finished = new Promise<void>((resolve, reject) => {
    parser.once('close', resolve);
    parser.once('error', reject);
  });
  try {
    await pipeline(request, parser);
    await finished;
    await Promise.all(writes);
  } catch (error) {
    await Promise.allSettled(writes);
    if (error instanceof ApiProblem) throw error;
    throw invalid(`Not a readable multipart/form-data body: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (size > limitBytes)
    throw new ApiProblem(413, 'body-too-large', `An import body may hold at most ${limitBytes} bytes`);
  if (problems.length > 0) throw problems[0];
  if (format === undefined || !(VENDOR_FORMATS as readonly string[]).includes(format))
    throw invalid(`Field format must be one of ${VENDOR_FORMATS.join(', ')} (got ${JSON.stringify(format ?? null)})`);
  if (stageMap === undefined) throw invalid('A stageMap part is required (docs/import.md, "The stage map")');
  if (files.length === 0) throw invalid('At least one files part is required: the vendor export');
  return { format: format as VendorFormat, stageMap, files, names };
}
