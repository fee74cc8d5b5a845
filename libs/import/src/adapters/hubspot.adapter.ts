import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { LineRef, SourcedLine } from '../canonical/canonical-records.js';
import { dealBlock, refusedDeal, type VendorChange } from './deal-timeline.js';
import { jsonArrayItems } from './json-lines.js';
import { readStageMap, type StageMap, type StageOutcome } from './stage-map.js';
import { minorUnits, vendorDate, vendorInstant } from './vendor-values.js';

/** The properties whose history the adapter reads (`propertiesWithHistory=` of the request). */
// In this order at equal instants: a closing's amount and close date are changed before it closes.
const TRACKED = ['closedate', 'amount', 'hubspot_owner_id', 'dealstage'] as const;
type Tracked = (typeof TRACKED)[number];

/** A value that was set at least this long after the deal's creation was not one it was created with. */
const CREATION_SLACK_MS = 60_000;

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

interface Version {
  readonly value: string;
  readonly at: string;
  readonly actor: string;
  readonly ref: LineRef;
  readonly recordId: string;
}

/**
 * HubSpot: deals as the CRM API returns them (`GET /crm/v3/objects/deals?properties=…&propertiesWithHistory=dealstage,amount,closedate,hubspot_owner_id&associations=companies`),
 * one response page per file (`{"results": [deal, …], "paging": …}`, or a bare array of deals), and a
 * stage map keyed by HubSpot pipeline id (`pipeline`) and stage id (`dealstage`, e.g. `closedwon`).
 * A deal is created at `createdate` with the oldest version of each tracked property (amount and
 * close date only when set within a minute of the creation); every later version is a change, by
 * its `updatedByUserId` (or `sourceId`, `sourceType`). HubSpot versions carry no id: a change's
 * record id is deal id, property and timestamp, the same in every export. Archived deals are skipped.
 * Files are streamed, one deal at a time (read twice: checked whole first, then imported).
 */
export async function* readHubSpotExport(files: readonly string[], stageMapFile: string): AsyncGenerator<SourcedLine> {
  const map = await readStageMap(stageMapFile);
  // First pass: every file is JSON of the expected shape (else nothing is imported), item by item.
  for (const file of files) for await (const item of dealItems(file)) void item;
  yield { ref: { file: map.file, line: 1 }, record: map.header };
  for (const pipeline of map.pipelines) yield { ref: { file: map.file, line: pipeline.line }, record: pipeline.record };
  for (const file of files) {
    for await (const { deal, lineOf } of dealItems(file)) {
      if (deal.archived === true) continue;
      yield* hubspotDeal(deal, (sub) => ({ file, line: lineOf(sub) }), map);
    }
  }
}

const NOT_HUBSPOT =
  'not a HubSpot deals export: expected {"results": [{"id", "properties", "propertiesWithHistory"}, …]}';

/** The deals of one file (a page `{"results": […]}` or a bare array), streamed: memory holds one deal. */
async function* dealItems(file: string): AsyncGenerator<{ deal: Json; lineOf: (path: string) => number }> {
  for await (const { value, lineOf } of jsonArrayItems(file, 'results', NOT_HUBSPOT)) {
    if (!isObject(value) || !isObject(value.properties)) throw new ImportFormatError(file, 1, NOT_HUBSPOT); // the file's verdict, at its start
    yield { deal: value, lineOf };
  }
}

function hubspotDeal(deal: Json, refAt: (path: string) => LineRef, map: StageMap): SourcedLine[] {
  const properties = deal.properties as Json;
  const prop = (name: string) => (typeof properties[name] === 'string' ? properties[name] : undefined);
  const id = typeof deal.id === 'string' || typeof deal.id === 'number' ? String(deal.id) : prop('hs_object_id');
  const ref = refAt('');
  if (id === undefined) return [{ ref, error: 'a deal without id', code: 'invalid-record' }];
  const fail = (at: LineRef, code: string, reason: string) => [refusedDeal(id, at, code, reason)];
  const pipeline = map.pipeline(prop('pipeline'));
  if (!pipeline)
    return fail(
      refAt('properties.pipeline'),
      'unknown-pipeline',
      `pipeline ${JSON.stringify(prop('pipeline'))} is not in the stage map (${map.file})`,
    );
  const createdAt = vendorInstant(prop('createdate') ?? deal.createdAt);
  if (createdAt === undefined)
    return fail(
      refAt('properties.createdate'),
      'invalid-record',
      `createdate ${JSON.stringify(prop('createdate'))} is not an instant with a zone`,
    );
  const currency = prop('deal_currency_code') || map.currency;

  // Every version of the tracked properties, oldest first (HubSpot lists them newest first).
  const history = isObject(deal.propertiesWithHistory) ? deal.propertiesWithHistory : {};
  const versions = new Map<Tracked, Version[]>();
  for (const name of TRACKED) {
    const list = history[name];
    if (list === undefined) continue;
    if (!Array.isArray(list))
      return fail(
        refAt(`propertiesWithHistory.${name}`),
        'invalid-record',
        `propertiesWithHistory.${name} must be an array`,
      );
    const parsed: Version[] = [];
    for (const [v, entry] of list.entries()) {
      const vRef = refAt(`propertiesWithHistory.${name}.${v}`);
      if (!isObject(entry)) return fail(vRef, 'invalid-record', `a ${name} version must be an object`);
      const when = vendorInstant(entry.timestamp);
      if (when === undefined)
        return fail(
          vRef,
          'invalid-record',
          `${name} version timestamp ${JSON.stringify(entry.timestamp)} is not an instant with a zone`,
        );
      const scalar = (value: unknown) =>
        typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
      parsed.push({
        value: scalar(entry.value) ?? '',
        at: when,
        actor: scalar(entry.updatedByUserId) ?? scalar(entry.sourceId) ?? scalar(entry.sourceType) ?? 'hubspot',
        ref: vRef,
        recordId: `${id}:${name}:${Date.parse(when)}`,
      });
    }
    parsed.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    // Two versions of one property at the same millisecond: keep their ids apart.
    parsed.forEach((version, i) => {
      if (i > 0 && parsed[i - 1].at === version.at) (version as { recordId: string }).recordId += `:${i}`;
    });
    versions.set(name, parsed);
  }
  const atCreation = (name: Tracked): Version | undefined => {
    const oldest = versions.get(name)?.[0];
    if (!oldest) return undefined;
    if (name === 'dealstage' || name === 'hubspot_owner_id') return oldest;
    return Date.parse(oldest.at) - Date.parse(createdAt) < CREATION_SLACK_MS ? oldest : undefined;
  };
  const lostReason = prop('closed_lost_reason');
  const outcomeOf = (value: string, at: LineRef): StageOutcome | SourcedLine[] => {
    const outcome = pipeline.stages.get(value);
    if (!outcome)
      return fail(
        at,
        'unknown-stage',
        `dealstage ${JSON.stringify(value)} is not a stage of pipeline ${JSON.stringify(prop('pipeline'))} in the stage map (${map.file})`,
      );
    return outcome.kind === 'lost' && lostReason ? { kind: 'lost', reason: lostReason } : outcome;
  };
  const firstStage = atCreation('dealstage');
  const initialStage = outcomeOf(
    firstStage?.value ?? prop('dealstage') ?? '',
    firstStage?.ref ?? refAt('properties.dealstage'),
  );
  if (Array.isArray(initialStage)) return initialStage;
  const firstAmount = atCreation('amount');
  const initialAmount = minorUnits(
    firstAmount ? firstAmount.value : versions.has('amount') ? '' : prop('amount'),
    currency,
  );
  if ('error' in initialAmount)
    return fail(firstAmount?.ref ?? refAt('properties.amount'), 'invalid-amount', initialAmount.error);
  const firstClose = atCreation('closedate');
  const initialClose = vendorDate(firstClose ? firstClose.value : versions.has('closedate') ? '' : prop('closedate'));
  if (initialClose === undefined)
    return fail(firstClose?.ref ?? refAt('properties.closedate'), 'invalid-record', 'closedate is not a date');
  const owner = atCreation('hubspot_owner_id')?.value || prop('hubspot_owner_id') || 'unassigned';

  const changes: VendorChange[] = [];
  for (const [name, list] of versions) {
    for (const version of list) {
      if (version === atCreation(name)) continue;
      if (name === 'dealstage') {
        const outcome = outcomeOf(version.value, version.ref);
        if (Array.isArray(outcome)) return outcome;
        changes.push({ ...version, field: { name: 'stage', outcome } });
      } else if (name === 'amount') {
        const amount = minorUnits(version.value, currency);
        if ('error' in amount) return fail(version.ref, 'invalid-amount', amount.error);
        changes.push({ ...version, field: { name: 'amount', amount: amount.amount } });
      } else if (name === 'closedate') {
        const date = vendorDate(version.value);
        if (date === undefined)
          return fail(version.ref, 'invalid-record', `closedate ${JSON.stringify(version.value)} is not a date`);
        changes.push({ ...version, field: { name: 'close-date', date } });
      } else if (version.value !== '') changes.push({ ...version, field: { name: 'owner', owner: version.value } });
    }
  }
  const companies =
    isObject(deal.associations) && isObject(deal.associations.companies)
      ? deal.associations.companies.results
      : undefined;
  const company = Array.isArray(companies) && isObject(companies[0]) ? companies[0].id : undefined;
  return dealBlock(
    {
      sourceId: id,
      ref,
      at: createdAt,
      actor: prop('hs_created_by_user_id') ?? firstStage?.actor ?? 'hubspot',
      pipeline,
      title: prop('dealname') ?? `HubSpot deal ${id}`,
      account: typeof company === 'string' || typeof company === 'number' ? `company:${company}` : '(no company)',
      currency,
      owner,
      initial: { stage: initialStage, amount: initialAmount.amount, closeDate: initialClose },
    },
    changes,
  );
}
