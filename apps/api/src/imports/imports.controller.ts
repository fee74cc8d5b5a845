import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE } from '@dealstream/command-handling';
import type { EventStore } from '@dealstream/event-store';
import {
  ImportFormatError,
  parseCanonicalLine,
  readCanonicalFiles,
  readVendorExport,
  type SourcedLine,
} from '@dealstream/import';
import type { Principal } from '../auth/auth.decorators.js';
import { CurrentPrincipal } from '../auth/auth.decorators.js';
import { headerOf, mediaTypeOf, type HttpReply, type HttpRequest } from '../controller-kit/http-exchange.js';
import { UuidParamPipe } from '../controller-kit/uuid-param.pipe.js';
import { NotKeyed } from '../idempotency/idempotency.interceptor.js';
import { ApiProblemResponses } from '../controller-kit/api-docs.decorators.js';
import { ApiProblem } from '../problem/api-problem.js';
import { AUTHENTICATED, DATABASE_FAULTS, mergeProblems } from '../problem/problem-catalogue.js';
import { ImportJobDto } from './import-job.dto.js';
import { ImportJobs, type ImportJobView } from './import-jobs.js';
import { MULTIPART, readVendorUpload } from './vendor-upload.js';

/** Largest NDJSON body (bytes) a POST /imports takes; larger histories: split the file, or use the CLI. */
const IMPORT_BODY_LIMIT_BYTES = 256 * 1024 * 1024;
const NDJSON = 'application/x-ndjson';

/** Historic import over HTTP: the body is streamed to a temporary file, then imported in the background. */
@ApiTags('imports')
@Controller('imports')
export class ImportsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly jobs: ImportJobs,
  ) {}

  @Post()
  @HttpCode(202)
  @NotKeyed()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Import CRM history (canonical NDJSON, or a Salesforce/HubSpot/Pipedrive export) in the background',
    description:
      'The body (at most 256 MiB in all, within HTTP_REQUEST_TIMEOUT_MS) is streamed to temporary files. ' +
      '`application/x-ndjson`: the canonical file, whose first record must be the canonical header (else 400 `not-canonical`). ' +
      '`multipart/form-data`: a vendor export — field `format` (`salesforce`, `hubspot`, `pipedrive`), part `stageMap` (the stage map JSON) and one or more parts `files` (the export files); a part missing or unknown is 400 `invalid-upload`, a file of the wrong format or an unusable stage map 400 `not-a-vendor-export` (docs/import.md). ' +
      'Answers 202 with the import id at once; `GET /imports/{id}` follows its progress and gives the report. Events are written with actorId = the token sub and the source provenance; posting the same files again appends nothing.',
    requestBody: {
      required: true,
      content: {
        [NDJSON]: {
          schema: {
            type: 'string',
            description: 'The canonical import file: one JSON record per line, the header first (docs/import.md)',
          },
        },
        [MULTIPART]: {
          schema: {
            type: 'object',
            required: ['format', 'stageMap', 'files'],
            properties: {
              format: { type: 'string', enum: ['salesforce', 'hubspot', 'pipedrive'] },
              stageMap: {
                type: 'string',
                format: 'binary',
                description: 'The stage map (docs/import.md, "The stage map")',
              },
              files: {
                type: 'array',
                items: { type: 'string', format: 'binary' },
                description:
                  'The export files: Salesforce Opportunity and OpportunityHistory CSV; HubSpot deal pages (JSON); Pipedrive deals and flows (JSON)',
              },
            },
          },
        },
      },
    },
  })
  @ApiResponse({
    status: 202,
    type: ImportJobDto,
    description: 'Accepted, running: header Location: /imports/{importId}',
    headers: { Location: { description: '/imports/{importId}', schema: { type: 'string' } } },
  })
  @ApiProblemResponses(
    mergeProblems(AUTHENTICATED, DATABASE_FAULTS, {
      400: ['not-canonical', 'invalid-upload', 'not-a-vendor-export', 'idempotency-key-not-supported'],
      413: ['body-too-large'],
      415: ['unsupported-media-type'],
    }),
    {
      400: 'The body is not a canonical import file (`not-canonical`), a multipart body lacks or has unknown parts (`invalid-upload`), a vendor file is not of its format or the stage map is unusable (`not-a-vendor-export`), or an Idempotency-Key was sent (`idempotency-key-not-supported`: an import is idempotent by its source ids; post the same file again)',
      413: 'The body is larger than 256 MiB (`body-too-large`)',
      415: 'The body is neither application/x-ndjson nor multipart/form-data (`unsupported-media-type`)',
    },
  )
  async start(
    @Req() request: HttpRequest,
    @Res({ passthrough: true }) response: HttpReply,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ImportJobView> {
    if (headerOf(request, 'idempotency-key') !== undefined) {
      throw new ApiProblem(
        400,
        'idempotency-key-not-supported',
        'An import is idempotent by its source ids: post the same file again instead of sending Idempotency-Key',
      );
    }
    const mediaType = mediaTypeOf(request.headers['content-type']);
    const multipart = mediaType === MULTIPART;
    if (!multipart && mediaType !== NDJSON)
      throw new ApiProblem(
        415,
        'unsupported-media-type',
        `Send the history as ${NDJSON} (canonical) or as ${MULTIPART} (a vendor export; docs/import.md)`,
      );
    const dir = await mkdtemp(join(tmpdir(), 'dealstream-import-'));
    if (multipart) {
      const lines = await this.vendorLines(request, dir);
      const job = await this.jobs.start(this.store, lines, principal.actorId);
      response.header('Location', `/imports/${job.importId}`);
      return job;
    }
    const file = join(dir, 'body.ndjson');
    try {
      // Past the limit the rest is read and dropped (not written), so the client gets its 413 on a
      // connection that is still whole rather than a reset.
      let size = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          callback(null, size > IMPORT_BODY_LIMIT_BYTES ? undefined : chunk);
        },
      });
      // The Node request: its body was left unread by the framework (no parser for this type).
      await pipeline(request.raw, limit, createWriteStream(file));
      if (size > IMPORT_BODY_LIMIT_BYTES)
        throw new ApiProblem(413, 'body-too-large', `An import body may hold at most ${IMPORT_BODY_LIMIT_BYTES} bytes`);
      const header = await firstLine(file);
      const parsed = header === undefined ? undefined : parseCanonicalLine(header, { file: 'body', line: 1 });
      if (parsed?.record?.type !== 'header') {
        throw new ApiProblem(
          400,
          'not-canonical',
          `Not a canonical import file: the first record must be {"type":"header","format":"dealstream-canonical","version":1,…}${parsed?.error ? ` (${parsed.error})` : ''}`,
        );
      }
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    const job = await this.jobs.start(
      this.store,
      { dir, lines: readCanonicalFiles([file]), rename: (text) => text.replaceAll(file, 'body') },
      principal.actorId,
    );
    response.header('Location', `/imports/${job.importId}`);
    return job;
  }

  /**
   * A vendor export's parts written to `dir`, the adapter started and checked up to its first line
   * (it reads the stage map and checks every file before yielding it): a file of the wrong format is a
   * 400 now, nothing imported. The lines, the first one given back, go to the job.
   */
  private async vendorLines(request: HttpRequest, dir: string) {
    try {
      const upload = await readVendorUpload(request.raw, dir, IMPORT_BODY_LIMIT_BYTES);
      const rename = (text: string) => {
        let named = text;
        for (const [path, name] of upload.names) named = named.replaceAll(path, name);
        return named;
      };
      const lines = readVendorExport(upload.format, upload.files, upload.stageMap);
      let first: IteratorResult<SourcedLine>;
      try {
        first = await lines.next();
      } catch (error) {
        if (!(error instanceof ImportFormatError)) throw error;
        throw new ApiProblem(400, 'not-a-vendor-export', rename(error.message));
      }
      async function* resumed(): AsyncGenerator<SourcedLine> {
        if (first.done) return;
        yield first.value;
        yield* lines;
      }
      return { dir, lines: resumed(), rename };
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  @Get(':id')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Progress and report of an import',
    description:
      'status `running` (with records, deals and events so far), `done` (with the report: counts by event type, refused deals with line and reason) or `failed` (with why — also when the API process running it stopped: post the same file again). Imports are kept in the database: any API process answers, a restart forgets none.',
  })
  @ApiResponse({ status: 200, type: ImportJobDto, description: 'The import' })
  @ApiProblemResponses(mergeProblems(AUTHENTICATED, DATABASE_FAULTS, { 404: ['import-not-found'] }), {
    404: 'No such import (`import-not-found`)',
  })
  async get(@Param('id', UuidParamPipe) id: string): Promise<ImportJobView> {
    const job = await this.jobs.get(id);
    if (!job) throw new ApiProblem(404, 'import-not-found', `No import ${id}`);
    return job;
  }
}

/** The first non-blank line of a file (reads only its beginning). */
async function firstLine(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(1_000_000);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer
      .subarray(0, bytesRead)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
    return text.split('\n').find((line) => line.trim() !== '');
  } finally {
    await handle.close();
  }
}
