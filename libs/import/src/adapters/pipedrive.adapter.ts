import { ImportFormatError } from '../canonical/canonical-reader.js';
import type { LineRef, SourcedLine } from '../canonical/canonical-records.js';
import { dealBlock, refusedDeal, type VendorChange } from './deal-timeline.js';
import { jsonArrayItems } from './json-lines.js';
import { readStageMap, type StageMap } from './stage-map.js';
import { minorUnits, vendorDate, vendorInstant } from './vendor-values.js';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
/** Pipedrive v1 gives users and organizations as objects ({id, name, …}), v2 as ids. */
const idOf = (value: unknown): string | undefined =>
  isObject(value)
    ? idOf(value.id ?? value.value)
    : typeof value === 'number' || (typeof value === 'string' && value !== '')
      ? String(value)
      : undefined;
const pipedriveTime = (value: unknown) => vendorInstant(value, { utcWithoutZone: true });

interface FlowChange {
  readonly id: string;
  readonly field: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
  readonly at: string | undefined;
  readonly rawTime: unknown;
  readonly actor: string;
  readonly ref: LineRef;
}

/** The fields whose changes the adapter reads; others (title, custom fields, …) are left out. */
const FIELDS = ['expected_close_date', 'value', 'user_id', 'stage_id', 'lost_reason', 'status', 'pipeline_id'];

/**
 * Pipedrive: the deals (`GET /v1/deals` responses: `{"data": [deal, …]}`) and each deal's flow
 * (`GET /v1/deals/{id}/flow` responses: items `{"object": "dealChange", "data": {item_id, field_key,
 * old_value, new_value, log_time, user_id}}`; other flow items are ignored), as JSON files in any
 * order, and a stage map keyed by `pipeline_id` and `stage_id`. Pipedrive keeps status (open, won,
 * lost) apart from the stage. A deal is created at `add_time` with the `old_value` of the first change
 * of each field (its current value when the field never changed); changes of `stage_id`, `value`,
 * `status`, `user_id`, `expected_close_date` follow (a loss takes `lost_reason`). A closed deal whose
 * flow has no status change closes at its `won_time`/`lost_time`. Times without zone are UTC, as
 * Pipedrive documents its API. Deleted deals are skipped. Files are streamed twice (checked and the
 * flow changes collected, then the deals imported): memory holds the tracked flow changes and the deal
 * ids, never a file or the deals.
 */
export async function* readPipedriveExport(
  files: readonly string[],
  stageMapFile: string,
): AsyncGenerator<SourcedLine> {
  const map = await readStageMap(stageMapFile);
  // First pass: every file is JSON of the expected shape (else nothing is imported); the changes of
  // the tracked fields are kept, grouped by deal — not the files, not the deals.
  const flows = new Map<string, FlowChange[]>();
  for (const file of files) {
    for await (const { item, dataRef } of pipedriveItems(file)) {
      if (isDeal(item) || item.object !== 'dealChange') continue;
      const change = item.data as Json;
      const dealId = idOf(change.item_id);
      const field = typeof change.field_key === 'string' ? change.field_key : '';
      if (dealId === undefined || !FIELDS.includes(field)) continue;
      const list = flows.get(dealId) ?? [];
      flows.set(dealId, list);
      list.push({
        id: idOf(change.id) ?? `${dealId}:${field}:${String(change.log_time)}`,
        field,
        oldValue: change.old_value,
        newValue: change.new_value,
        at: pipedriveTime(change.log_time ?? item.timestamp),
        rawTime: change.log_time ?? item.timestamp,
        actor: idOf(change.user_id) ?? 'pipedrive',
        ref: dataRef,
      });
    }
  }
  yield { ref: { file: map.file, line: 1 }, record: map.header };
  for (const pipeline of map.pipelines) yield { ref: { file: map.file, line: pipeline.line }, record: pipeline.record };
  // Second pass: the deals, streamed, each with its changes.
  const seen = new Set<string>();
  for (const file of files) {
    for await (const { item: deal, ref } of pipedriveItems(file)) {
      if (!isDeal(deal)) continue;
      const id = idOf(deal.id)!;
      seen.add(id);
      if (deal.status === 'deleted') continue;
      yield* pipedriveDeal(id, deal, ref, flows.get(id) ?? [], map);
    }
  }
  for (const [id, changes] of flows) {
    if (!seen.has(id))
      yield refusedDeal(id, changes[0].ref, 'deal-not-in-export', `flow of deal ${id}, which no deals file has`);
  }
}

const NOT_PIPEDRIVE =
  'not a Pipedrive export: expected the deals ({"data": [{"id", "stage_id", "add_time", …}]}) or a deal flow ({"data": [{"object": "dealChange", "data": {…}}]})';
const isDeal = (item: unknown): boolean => isObject(item) && 'stage_id' in item && 'add_time' in item && 'id' in item;
const isFlow = (item: unknown): boolean => isObject(item) && typeof item.object === 'string' && isObject(item.data);

/** The items of one file (`{"data": […]}` or a bare array): deals or flow entries, streamed one at a time. */
async function* pipedriveItems(file: string): AsyncGenerator<{ item: Json; ref: LineRef; dataRef: LineRef }> {
  for await (const { value, lineOf } of jsonArrayItems(file, 'data', NOT_PIPEDRIVE)) {
    if (!isDeal(value) && !isFlow(value)) throw new ImportFormatError(file, 1, NOT_PIPEDRIVE); // the file's verdict, at its start
    yield { item: value as Json, ref: { file, line: lineOf('') }, dataRef: { file, line: lineOf('data') } };
  }
}

function pipedriveDeal(id: string, deal: Json, ref: LineRef, flow: FlowChange[], map: StageMap): SourcedLine[] {
  const fail = (at: LineRef, code: string, reason: string) => [refusedDeal(id, at, code, reason)];
  const bad = flow.find((change) => change.at === undefined);
  if (bad)
    return fail(
      bad.ref,
      'invalid-record',
      `log_time ${JSON.stringify(bad.rawTime)} is not an instant (UTC YYYY-MM-DD HH:MM:SS or with a zone)`,
    );
  const changes = flow
    .map((change, i) => ({ change, i }))
    .sort((a, b) => Date.parse(a.change.at!) - Date.parse(b.change.at!) || a.i - b.i)
    .map(({ change }) => change);
  const moved = changes.find((change) => change.field === 'pipeline_id');
  if (moved)
    return fail(
      moved.ref,
      'pipeline-change-unsupported',
      'the deal moved to another pipeline; dealstream deals stay in theirs',
    );
  const pipeline = map.pipeline(idOf(deal.pipeline_id));
  if (!pipeline)
    return fail(
      ref,
      'unknown-pipeline',
      `pipeline_id ${JSON.stringify(deal.pipeline_id)} is not in the stage map (${map.file})`,
    );
  const createdAt = pipedriveTime(deal.add_time);
  if (createdAt === undefined)
    return fail(
      ref,
      'invalid-record',
      `add_time ${JSON.stringify(deal.add_time)} is not an instant (UTC YYYY-MM-DD HH:MM:SS or with a zone)`,
    );
  const currency = typeof deal.currency === 'string' && deal.currency !== '' ? deal.currency : map.currency;
  const initialOf = (field: string, current: unknown) => {
    const first = changes.find((change) => change.field === field);
    return first ? first.oldValue : current;
  };
  const stageOf = (value: unknown, at: LineRef) => {
    const outcome = pipeline.stages.get(idOf(value) ?? '');
    return outcome?.kind === 'open'
      ? outcome
      : fail(
          at,
          'unknown-stage',
          `stage_id ${JSON.stringify(value)} is not an open stage of pipeline ${JSON.stringify(deal.pipeline_id)} in the stage map (${map.file})`,
        );
  };
  const initialStage = stageOf(
    initialOf('stage_id', deal.stage_id),
    changes.find((c) => c.field === 'stage_id')?.ref ?? ref,
  );
  if (Array.isArray(initialStage)) return initialStage;
  const initialAmount = minorUnits(initialOf('value', deal.value), currency);
  if ('error' in initialAmount) return fail(ref, 'invalid-amount', initialAmount.error);
  const initialClose = vendorDate(initialOf('expected_close_date', deal.expected_close_date));
  if (initialClose === undefined) return fail(ref, 'invalid-record', 'expected_close_date is not a date YYYY-MM-DD');
  const owner = idOf(initialOf('user_id', deal.user_id ?? deal.owner_id)) ?? 'unassigned';
  const creator = idOf(deal.creator_user_id) ?? owner;

  const statusChanges = changes.filter((change) => change.field === 'status');
  const lastLoss = statusChanges.filter((change) => change.newValue === 'lost').at(-1);
  const reasonOf = (change: FlowChange | undefined): string => {
    const stated = change && changes.find((c) => c.field === 'lost_reason' && c.at === change.at);
    const reason = stated?.newValue ?? (change === lastLoss || change === undefined ? deal.lost_reason : undefined);
    return typeof reason === 'string' && reason.trim() !== '' ? reason : 'lost';
  };
  const out: VendorChange[] = [];
  const closing = (status: unknown, recordId: string, at: string) => {
    if (status === 'won' || status === 'lost')
      out.push({ recordId, at, actor: owner, ref, field: { name: 'status', status, reason: reasonOf(undefined) } });
  };
  if (statusChanges.length > 0) closing(statusChanges[0].oldValue, `${id}:created`, createdAt);
  else if (deal.status === 'won' || deal.status === 'lost') {
    // No status change in the flow: the deal closed at its won_time/lost_time (or was created closed).
    const closedAt = pipedriveTime(deal.status === 'won' ? deal.won_time : deal.lost_time);
    closing(deal.status, closedAt ? `${id}:${deal.status}_time` : `${id}:created`, closedAt ?? createdAt);
  }
  for (const change of changes) {
    const base = { recordId: change.id, at: change.at!, actor: change.actor, ref: change.ref };
    switch (change.field) {
      case 'stage_id': {
        const outcome = stageOf(change.newValue, change.ref);
        if (Array.isArray(outcome)) return outcome;
        out.push({ ...base, field: { name: 'stage', outcome } });
        break;
      }
      case 'value': {
        const amount = minorUnits(change.newValue, currency);
        if ('error' in amount) return fail(change.ref, 'invalid-amount', amount.error);
        out.push({ ...base, field: { name: 'amount', amount: amount.amount } });
        break;
      }
      case 'expected_close_date': {
        const date = vendorDate(change.newValue);
        if (date === undefined)
          return fail(
            change.ref,
            'invalid-record',
            `expected_close_date ${JSON.stringify(change.newValue)} is not a date`,
          );
        out.push({ ...base, field: { name: 'close-date', date } });
        break;
      }
      case 'user_id': {
        const to = idOf(change.newValue);
        if (to !== undefined) out.push({ ...base, field: { name: 'owner', owner: to } });
        break;
      }
      case 'status':
        if (change.newValue === 'won' || change.newValue === 'lost' || change.newValue === 'open')
          out.push({ ...base, field: { name: 'status', status: change.newValue, reason: reasonOf(change) } });
        break;
    }
  }
  return dealBlock(
    {
      sourceId: id,
      ref,
      at: createdAt,
      actor: creator,
      pipeline,
      title: typeof deal.title === 'string' ? deal.title : `Pipedrive deal ${id}`,
      account:
        (typeof deal.org_name === 'string' && deal.org_name) ||
        (isObject(deal.org_id) && typeof deal.org_id.name === 'string' && deal.org_id.name) ||
        (idOf(deal.org_id) !== undefined ? `org:${idOf(deal.org_id)}` : '(no organization)'),
      currency,
      owner,
      initial: { stage: initialStage, amount: initialAmount.amount, closeDate: initialClose },
    },
    out,
    { statusApart: true },
  );
}
