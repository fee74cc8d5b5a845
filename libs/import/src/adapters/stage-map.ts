import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { CanonicalStage, HeaderRecord, PipelineRecord } from '../canonical/canonical-records.js';
import { lineAt, readJsonFile } from './json-lines.js';
import { vendorInstant } from './vendor-values.js';

/** Where a vendor stage leads: a dealstream stage, or a closing (Salesforce's IsClosed/IsWon). */
export type StageOutcome =
  | { readonly kind: 'open'; readonly stage: string }
  | { readonly kind: 'won' }
  | { readonly kind: 'lost'; readonly reason: string };

export interface MappedPipeline {
  /** The canonical pipeline's source id. */
  readonly sourceId: string;
  /** Its first open stage: where a deal created directly in a closed stage is created. */
  readonly firstStage: string;
  readonly record: PipelineRecord;
  readonly line: number;
  /** Vendor stage (Salesforce StageName, HubSpot dealstage id, Pipedrive stage_id) → outcome. */
  readonly stages: ReadonlyMap<string, StageOutcome>;
}

/** A stage-map file (docs/import.md, "The stage map"), read and checked. */
export interface StageMap {
  readonly file: string;
  readonly sourceSystem: string;
  /** The currency of deals whose export names none. */
  readonly currency: string;
  readonly header: HeaderRecord;
  readonly pipelines: readonly MappedPipeline[];
  /** The pipeline of a vendor pipeline id; with one pipeline and no `source`, that one for every id. */
  pipeline(vendorPipeline: string | undefined): MappedPipeline | undefined;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * Reads a stage map: the source system's name, the default currency, and per pipeline its definition
 * (the dealstream stages in order, with probability and stall limit) and every vendor stage mapped to
 * a dealstream stage or to a closing (`isClosed`, `isWon`). A map that is not this shape stops the run
 * before anything is written (ImportFormatError, with the line).
 */
export async function readStageMap(file: string): Promise<StageMap> {
  const { json, lines } = await readJsonFile(file);
  const fail = (path: string, reason: string): never => {
    throw new ImportFormatError(file, lineAt(lines, path), `stage map: ${path === '' ? '' : `${path}: `}${reason}`);
  };
  if (!isObject(json)) return fail('', 'must be an object {sourceSystem, currency, pipelines}');
  const { sourceSystem, currency, pipelines } = json;
  if (typeof sourceSystem !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(sourceSystem))
    fail('sourceSystem', 'must name the source system: [a-z0-9][a-z0-9._-]{0,63}, e.g. "acme-salesforce"');
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    fail('currency', 'must be an ISO 4217 code (the currency of deals whose export names none)');
  if (!Array.isArray(pipelines) || pipelines.length === 0) return fail('pipelines', 'must list at least one pipeline');
  const mapped = pipelines.map((pipeline, p) => readPipeline(pipeline, `pipelines.${p}`, fail, lines));
  const bySource = new Map<string, MappedPipeline>();
  mapped.forEach((pipeline, p) => {
    const source = (pipelines[p] as Json).source;
    const key = typeof source === 'string' || typeof source === 'number' ? String(source) : '';
    if (bySource.has(key)) fail(`pipelines.${p}.source`, `vendor pipeline ${JSON.stringify(key)} is mapped twice`);
    bySource.set(key, pipeline);
  });
  if (new Set(mapped.map((pipeline) => pipeline.sourceId)).size !== mapped.length)
    fail('pipelines', 'two pipelines have the same sourceId');
  return {
    file,
    sourceSystem: sourceSystem as string,
    currency: currency as string,
    header: { type: 'header', format: 'dealstream-canonical', version: 1, sourceSystem: sourceSystem as string },
    pipelines: mapped,
    pipeline: (vendorPipeline) =>
      bySource.get(vendorPipeline ?? '') ?? (mapped.length === 1 && bySource.has('') ? mapped[0] : undefined),
  };
}

function readPipeline(
  value: unknown,
  path: string,
  fail: (path: string, reason: string) => never,
  lines: ReadonlyMap<string, number>,
): MappedPipeline {
  if (!isObject(value)) return fail(path, 'must be an object {source?, sourceId, name, definedAt, stages}');
  const { source, sourceId, name, definedAt, actor, stages } = value;
  if (source !== undefined && typeof source !== 'string' && typeof source !== 'number')
    fail(`${path}.source`, 'must be the vendor pipeline id (string or number)');
  if (!text(sourceId)) fail(`${path}.sourceId`, 'must be a non-empty string');
  if (!text(name)) fail(`${path}.name`, 'must be a non-empty string');
  const at = vendorInstant(definedAt);
  if (at === undefined)
    fail(`${path}.definedAt`, 'must be an ISO 8601 instant with a zone (when the pipeline took effect)');
  if (actor !== undefined && !text(actor)) fail(`${path}.actor`, 'must be a non-empty string');
  if (!Array.isArray(stages) || stages.length === 0) return fail(`${path}.stages`, 'must list the vendor stages');
  const canonical: CanonicalStage[] = [];
  const outcomes = new Map<string, StageOutcome>();
  stages.forEach((entry: unknown, s) => {
    const at = `${path}.stages.${s}`;
    if (!isObject(entry)) return fail(at, 'must be an object');
    const vendor = entry.source;
    if (typeof vendor !== 'string' && typeof vendor !== 'number')
      fail(`${at}.source`, 'must be the vendor stage (Salesforce StageName, HubSpot stage id, Pipedrive stage_id)');
    const key = String(vendor);
    if (outcomes.has(key)) fail(`${at}.source`, `vendor stage ${JSON.stringify(key)} is mapped twice`);
    if (entry.isClosed === true) {
      if (typeof entry.isWon !== 'boolean') fail(`${at}.isWon`, 'a closed stage says isWon: true or false');
      if (entry.stage !== undefined) fail(`${at}.stage`, 'a closed stage maps to a closing, not to a stage');
      if (entry.reason !== undefined && !text(entry.reason)) fail(`${at}.reason`, 'must be a non-empty string');
      outcomes.set(key, entry.isWon === true ? { kind: 'won' } : { kind: 'lost', reason: entry.reason ?? key });
      return;
    }
    if (entry.isClosed !== undefined && entry.isClosed !== false) fail(`${at}.isClosed`, 'must be true or false');
    if (entry.isWon === true) fail(`${at}.isWon`, 'a won stage is closed: isClosed: true');
    if (!text(entry.stage)) fail(`${at}.stage`, 'must name the dealstream stage this vendor stage counts as');
    const stage = entry.stage;
    const known = canonical.find((c) => c.sourceId === stage);
    if (!known) {
      const { probability, maxDaysInStage } = entry;
      if (typeof probability !== 'number' || !Number.isInteger(probability) || probability < 0 || probability > 100)
        fail(`${at}.probability`, 'the first mapping to a stage gives its probability: an integer 0–100');
      if (maxDaysInStage !== undefined && (typeof maxDaysInStage !== 'number' || !Number.isInteger(maxDaysInStage)))
        fail(`${at}.maxDaysInStage`, 'must be an integer number of days');
      canonical.push({
        sourceId: stage,
        name: stage,
        probability: probability,
        ...(maxDaysInStage !== undefined ? { maxDaysInStage: maxDaysInStage } : {}),
      });
    }
    outcomes.set(key, { kind: 'open', stage });
  });
  if (canonical.length === 0) fail(`${path}.stages`, 'must map at least one vendor stage to an open dealstream stage');
  return {
    sourceId: sourceId,
    firstStage: canonical[0].sourceId,
    line: lineAt(lines, path),
    stages: outcomes,
    record: {
      type: 'pipeline',
      sourceId: sourceId,
      sourceRecordId: `pipeline:${sourceId}`,
      at: at,
      actor: actor ?? 'stage-map',
      name: name,
      stages: canonical,
    },
  };
}
