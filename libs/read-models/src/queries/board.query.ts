import { sql, type RawBuilder } from 'kysely';
import type { ReadModelDb } from '../schema/read-model.tables.js';
import { openDealsAt } from './open-deals.js';
import { pipelineDefinition, type PipelineDefinition } from './pipeline-definition.query.js';
import { columnEnteredAt, layoutSql, stageLayout, type ReportStageMap, type StageLayout } from './stage-layout.js';
import { openDealsInSegment } from './pipeline-metrics.query.js';
import type { Segment } from './segment.js';
import { timestamp, type AsOf } from './time-axis.js';

export interface BoardFilters {
  readonly ownerId?: string;
  /** Only deals owned by one of these (an empty list matches none); with ownerId, both apply. */
  readonly ownerIds?: readonly string[];
  /** true: only stalled deals; false: only deals within their stage goal. */
  readonly stalled?: boolean;
  readonly minAmount?: number;
  readonly maxAmount?: number;
  /** The rest of the report segment (docs/metrics.md, "Segments"): kind, currency, source. */
  readonly kinds?: Segment['kinds'];
  readonly currencies?: Segment['currencies'];
  readonly source?: Segment['source'];
}

export interface BoardRequest {
  readonly asOf: AsOf;
  /** The instant ages and stalls are measured at: asOf.at, or the current time. */
  readonly now: Date;
  readonly filters: BoardFilters;
  /** Deals per stage page. */
  readonly limit: number;
  /** Only this stage (to page through it with `cursor`). */
  readonly stageId?: string;
  readonly cursor?: BoardCursor;
  /** Columns are the map's target stages (docs/metrics.md, "Stage maps"). */
  readonly stageMap?: ReportStageMap;
}

/** Keyset position within a stage: deals are ordered by amount descending, then deal id. */
export interface BoardCursor {
  readonly amount: number;
  readonly dealId: string;
}

export interface MoneyTotals {
  readonly currency: string;
  readonly count: number;
  /** Σ amount, minor units. */
  readonly amount: number;
  /** round(Σ amount × stage probability / 100), minor units. */
  readonly weightedAmount: number;
}

export interface BoardDeal {
  readonly dealId: string;
  readonly title: string;
  readonly account: string;
  readonly ownerId: string;
  readonly amount: number;
  readonly currency: string;
  readonly expectedCloseDate: string | null;
  /** When it entered the column it is in (under a map: the target stage, not the stage within it). */
  readonly stageEnteredAt: string;
  readonly daysInStage: number;
  readonly stalled: boolean;
  /** The deal stream's current revision (the If-Match of a write), also on a board as of an earlier instant. */
  readonly revision: string;
}

export interface BoardStage {
  readonly stageId: string;
  readonly name: string;
  /** Null for a stage map's target: its deals are weighted by their own stages' probabilities. */
  readonly probability: number | null;
  readonly maxDaysInStage: number | null;
  readonly count: number;
  readonly stalledCount: number;
  readonly totals: MoneyTotals[];
  readonly deals: BoardDeal[];
  readonly nextCursor: BoardCursor | null;
}

export interface Board {
  readonly pipeline: Pick<PipelineDefinition, 'pipelineId' | 'name' | 'currency' | 'status' | 'revision'>;
  readonly stages: BoardStage[];
}

/**
 * The board: stages in order with their open deals' count, Σ amount and Σ weighted amount per
 * currency, and the first page of deals (largest first). Filters apply to totals and deals alike.
 * Deals in a stage removed since are shown under the stage that received them.
 */
export async function board(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  request: BoardRequest,
): Promise<Board | undefined> {
  const key = `${schema}.${pipelineId}`;
  const cached = request.asOf.at ? undefined : liveDefinitions.get(db)?.get(key);
  const definition = cached ?? (await pipelineDefinition(db, schema, pipelineId, request.asOf));
  if (!definition) return undefined;
  const layout = stageLayout(definition, request.stageMap);
  const answer = await boardStatement(db, schema, pipelineId, layout, request);
  if (!request.asOf.at) {
    const current = answer.revision !== null && Number(answer.revision) === definition.revision;
    // A cached definition older than the pipeline: read the definition again and ask again (once).
    if (!current && cached) {
      liveDefinitions.get(db)?.delete(key);
      return board(db, schema, pipelineId, request);
    }
    if (current) rememberDefinition(db, key, definition);
  }
  const { totals, deals } = answer;
  // The board's order: amount descending, then deal id (uuid order is the order of its lowercase text).
  const shown = deals.map((tuple) => ({ liveStageId: tuple[1], deal: toBoardDeal(tuple) }));
  shown.sort((a, b) => b.deal.amount - a.deal.amount || compareText(a.deal.dealId, b.deal.dealId));
  totals.sort((a, b) => compareText(a.currency, b.currency));

  const { stageId, limit } = request;

  const stages = layout.columns
    .filter((stage) => !stageId || stage.stageId === stageId)
    .map((stage): BoardStage => {
      const stageTotals = totals.filter((t) => t.live_stage_id === stage.stageId);
      const stageDeals = shown.filter((d) => d.liveStageId === stage.stageId).map((d) => d.deal);
      const page = stageDeals.slice(0, limit);
      const last = page.at(-1);
      return {
        stageId: stage.stageId,
        name: stage.name,
        probability: stage.probability,
        maxDaysInStage: stage.maxDaysInStage,
        count: stageTotals.reduce((n, t) => n + Number(t.count), 0),
        stalledCount: stageTotals.reduce((n, t) => n + Number(t.stalled), 0),
        totals: stageTotals.map((t) => ({
          currency: t.currency,
          count: Number(t.count),
          amount: Number(t.amount),
          weightedAmount: Number(t.weighted),
        })),
        deals: page,
        nextCursor: stageDeals.length > limit && last ? { amount: last.amount, dealId: last.dealId } : null,
      };
    });
  const { pipelineId: id, name, currency, status, revision } = definition;
  return { pipeline: { pipelineId: id, name, currency, status, revision }, stages };
}

/**
 * Live pipeline definitions per database, by schema and pipeline: the board's one statement reads
 * the pipeline's current revision beside the board, so a definition is used only while it is the
 * pipeline's current one (a stale one is dropped and the board asked again). As-of boards read the
 * definition of their instant every time.
 */
const liveDefinitions = new WeakMap<ReadModelDb, Map<string, PipelineDefinition>>();
const LIVE_DEFINITIONS_PER_DATABASE = 1_000;

function rememberDefinition(db: ReadModelDb, key: string, definition: PipelineDefinition): void {
  let byPipeline = liveDefinitions.get(db);
  if (!byPipeline) liveDefinitions.set(db, (byPipeline = new Map<string, PipelineDefinition>()));
  byPipeline.delete(key);
  byPipeline.set(key, definition);
  // Bounded: the least recently confirmed entry goes first.
  if (byPipeline.size > LIVE_DEFINITIONS_PER_DATABASE) byPipeline.delete(byPipeline.keys().next().value as string);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface BoardAnswer {
  /** The pipeline's current revision, read in the same statement (null: no such pipeline now). */
  revision: string | null;
  totals: TotalsRow[];
  deals: BoardDealTuple[];
}

/**
 * The totals, the page and the pipeline's current revision in one statement: one round trip and
 * two JSON texts to parse instead of a row object per deal. What is left of the board's cost over a
 * raw top-N query is per statement, not per row (test/benchmarks/README.md, issue 16).
 */
async function boardStatement(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  request: BoardRequest,
): Promise<BoardAnswer> {
  // Raw: totals and a row_number() window per stage over a VALUES stage map, keyset-paged — beyond the builder's reach.
  const live = !request.asOf.at && !layout.mapped;
  const totalsSql = wholeLiveBoard(request)
    ? maintainedTotals(schema, pipelineId, layout, request)
    : live
      ? liveFilteredTotals(schema, pipelineId, layout, request)
      : filteredTotals();
  const pageSql = live ? livePage(schema, pipelineId, layout, request) : rankedPage(schema, request);
  // Unordered aggregates (an ordered json_agg sorts whole rows; board() orders in code); each deal as
  // an array, in the order of BoardDealTuple (the keys of an object per deal were half the text).
  const page = pageSql
    ? sql`(select coalesce(json_agg(json_build_array(p.deal_id, p.live_stage_id, p.owner_id, p.amount::bigint, p.currency,
          p.expected_close_date, p.stage_entered_at, p.stalled, p.days_in_stage, p.title, p.account, p.revision)), '[]'::json)
        from (${pageSql}) p)`
    : sql`'[]'::json`;
  const { rows } = await sql<BoardAnswer>`
    ${live ? sql`` : sql`with f as ${filteredDeals(schema, pipelineId, layout, request)}`}
    select (select revision::text from ${sql.id(schema)}.pipelines where pipeline_id = ${pipelineId}::uuid) as revision,
           (select coalesce(json_agg(t), '[]'::json) from (${totalsSql}) t) as totals,
           ${page} as deals`.execute(db);
  return rows[0];
}

/**
 * The first page of each stage (limit + 1 deals, to tell whether there is a next) over the open
 * deals the request selects at the instant: every selected deal ranked per stage.
 */
function rankedPage(schema: string, { cursor, stageId, limit }: BoardRequest): RawBuilder<BoardDealRow> {
  // Raw: a row_number() window per stage over the filtered deals (the statement's CTE f), keyset-paged.
  return sql<BoardDealRow>`
    with ranked as (
      select f.*, row_number() over (partition by live_stage_id order by amount desc, deal_id) as rn from f
      where ${stageId ? sql`live_stage_id = ${stageId}::text` : sql`true`}
        ${cursor ? sql`and ${after(cursor, sql`amount`, sql`deal_id`)}` : sql``}
    )
    select r.deal_id, r.live_stage_id, r.owner_id, r.amount::text as amount, r.currency, r.expected_close_date::text as expected_close_date,
           r.stage_entered_at, r.stalled, r.days_in_stage, d.title, d.account, d.revision::text as revision
    from ranked r
    -- one primary-key lookup per shown deal (LIMIT keeps the planner from hash-joining all deals)
    cross join lateral (select title, account, revision from ${sql.id(schema)}.deals d where d.deal_id = r.deal_id limit 1) d
    where r.rn <= ${limit + 1}`;
}

/**
 * Deals after the cursor in the board's order — amount descending, then deal id ascending: a smaller
 * amount, or the same amount and a greater id. (The row comparison `(amount, deal_id) < (…)` used
 * before orders both columns descending: where amounts tied, the next page went back to smaller ids.)
 * `amount <= cursor` first, so the board index scan starts at the cursor's amount.
 */
function after(cursor: BoardCursor, amount: RawBuilder<unknown>, dealId: RawBuilder<unknown>): RawBuilder<unknown> {
  const a = sql`${cursor.amount}::bigint`;
  return sql`${amount} <= ${a} and (${amount} < ${a} or ${dealId} > ${cursor.dealId}::uuid)`;
}

/**
 * The same page on the live board in live stages: per stage, the top limit + 1 of its open deals read
 * straight off the board index (pipeline, stage, amount desc, deal id) — it stops after the page
 * instead of ranking every open deal. Filters are conditions on the scanned rows; deals of removed
 * stages count under the stage that received them.
 */
function livePage(
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  request: BoardRequest,
): RawBuilder<BoardDealRow> | undefined {
  // Raw: a lateral top-N per stage over a VALUES list of stages, keyset-paged.
  const { ownerId, stalled, ...segment } = request.filters;
  const { cursor, stageId, limit } = request;
  const now = timestamp(request.now);
  // One row per stage id a column holds (a removed stage's deals count under the stage that received
  // them): each scan is an equality on the index's stage, so it reads in order and stops after the page.
  const stages = layout.rows
    .filter((row) => !stageId || row.columnId === stageId)
    .map((row) => ({ column: row.columnId, stageId: row.stageId, maxDays: row.maxDays }));
  if (stages.length === 0) return undefined;
  const isStalled = sql`coalesce(o.stage_entered_at < ${now} - make_interval(days => c.max_days), false)`;
  const s = sql.id(schema);
  const where = sql`${openDealsInSegment(schema, segment)}
    and o.pipeline_id = ${pipelineId}::uuid and o.status = 'open' and o.stage_id = c.stage_id
    ${ownerId !== undefined ? sql`and o.owner_id = ${ownerId}` : sql``}
    ${stalled !== undefined ? sql`and ${isStalled} = ${stalled}` : sql``}
    ${cursor ? sql`and ${after(cursor, sql`o.amount`, sql`o.deal_id`)}` : sql``}
    order by o.amount desc, o.deal_id limit ${limit + 1}`;
  // A filter besides the amount band (an index condition) is a condition on the index's included
  // columns: the page's deals are found by an index-only scan, then only they are read by key — a
  // plain index scan would read the row of every deal the filter skips (at 1M events, an owner's page
  // read ~4,000 rows).
  const { minAmount: _minAmount, maxAmount: _maxAmount, ...conditions } = request.filters;
  const keysFirst = Object.values(conditions).some((value) => value !== undefined);
  const scan = keysFirst
    ? sql`select k.deal_id, k.amount, k.stage_entered_at, d.owner_id, d.currency, d.expected_close_date, d.title, d.account, d.revision
        from (select o.deal_id, o.amount, o.stage_entered_at from ${s}.deals o ${where}) k
        cross join lateral (
          select d.owner_id, d.currency, d.expected_close_date, d.title, d.account, d.revision from ${s}.deals d
          where d.deal_id = k.deal_id limit 1
        ) d`
    : sql`select o.deal_id, o.amount, o.stage_entered_at, o.owner_id, o.currency, o.expected_close_date, o.title, o.account, o.revision
        from ${s}.deals o ${where}`;
  return sql<BoardDealRow>`
    select o.deal_id, c.live_stage_id, o.owner_id, o.amount::text as amount, o.currency,
           o.expected_close_date::text as expected_close_date, o.stage_entered_at, ${isStalled} as stalled,
           extract(epoch from (${now} - o.stage_entered_at)) / 86400 as days_in_stage, o.title, o.account,
           o.revision::text as revision
    from (values ${sql.join(stages.map((c) => sql`(${c.column}::text, ${c.stageId}::uuid, ${c.maxDays}::int)`))})
      as c(live_stage_id, stage_id, max_days)
    cross join lateral (${scan}) o`;
}

interface TotalsRow {
  live_stage_id: string;
  currency: string;
  count: string;
  amount: string;
  weighted: string;
  stalled: string;
}

/**
 * The live board without filters, or filtered by currency and/or stall only: its totals are the ones
 * the projection keeps (stage_totals, per currency), less or limited to the deals not stalled.
 */
function wholeLiveBoard({ asOf, filters }: BoardRequest): boolean {
  const { currencies: _currencies, stalled: _stalled, ...others } = filters;
  return !asOf.at && Object.values(others).every((value) => value === undefined);
}

/**
 * Totals per live stage and currency from `stage_totals` (count and Σ amount per stage, kept by the
 * deal projection), so a request reads one row per stage and currency instead of every open deal.
 * Stalls depend on the clock: in a stage with a goal, the deals that entered it since now − goal
 * ("fresh") are counted from `stage_entry_days` (the days after the one now − goal falls in, a row
 * per day and currency) plus, for that one day, the deals that entered it from now − goal on (off
 * the index on (pipeline, stage, stage entered)); every other open deal of the stage is stalled. So
 * the board filtered on stalls is the maintained totals less the fresh deals (stalled) or the fresh
 * deals alone (not stalled).
 */
function maintainedTotals(
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  { now, filters: { currencies, stalled } }: BoardRequest,
): RawBuilder<TotalsRow> {
  // Raw: joins a VALUES stage map (removed stages count under the stage that received their deals).
  const s = sql.id(schema);
  const inCurrencies = (column: RawBuilder<unknown>) =>
    currencies === undefined ? sql`` : sql`and ${column} = any(${[...currencies]}::text[])`;
  // Per stage id and currency: the deals counted (c), their Σ amount (a) and how many are stalled (st).
  const stalledCount = sql`case when t.max_days is null then 0 else t.open_count - coalesce(fresh.n, 0) end`;
  const stalledAmount = sql`case when t.max_days is null then 0 else t.open_amount - coalesce(fresh.amount, 0) end`;
  const counted =
    stalled === undefined
      ? sql`t.open_count as c, t.open_amount as a, ${stalledCount} as st`
      : stalled
        ? sql`${stalledCount} as c, ${stalledAmount} as a, ${stalledCount} as st`
        : sql`t.open_count - ${stalledCount} as c, t.open_amount - ${stalledAmount} as a, 0 as st`;
  // The instant a deal of the stage stalls before, and the first instant of the UTC day after the one it falls in.
  const since = sql`${timestamp(now)} - make_interval(days => def.max_days)`;
  return sql<TotalsRow>`
    with t as (
      select def.live_stage_id, def.stage_id, def.max_days, def.probability, t.currency, t.open_count, t.open_amount
      from ${s}.stage_totals t join ${layoutSql(layout)} on def.stage_id = t.stage_id
      where t.pipeline_id = ${pipelineId}::uuid ${inCurrencies(sql`t.currency`)}
    ), goals as (
      select def.stage_id, ${since} as since, ((${since}) at time zone 'UTC')::date as since_day
      from ${layoutSql(layout)} where def.max_days is not null
    ), fresh as (
      select g.stage_id, x.currency, sum(x.n) as n, sum(x.amount) as amount
      from goals g cross join lateral (
        select d.currency, d.open_count as n, d.open_amount as amount from ${s}.stage_entry_days d
        where d.pipeline_id = ${pipelineId}::uuid and d.stage_id = g.stage_id and d.entered_day > g.since_day ${inCurrencies(sql`d.currency`)}
        union all
        select o.currency, 1, o.amount from ${s}.deals o
        where o.pipeline_id = ${pipelineId}::uuid and o.status = 'open' and o.stage_id = g.stage_id
          and o.stage_entered_at >= g.since and o.stage_entered_at < (g.since_day + 1)::timestamp at time zone 'UTC'
          ${inCurrencies(sql`o.currency`)}
      ) x
      group by g.stage_id, x.currency
    )
    select live_stage_id, currency, sum(c)::text as count, sum(a)::text as amount,
           round(sum(a::numeric * probability) / 100)::text as weighted, sum(st)::text as stalled
    from (
      select t.live_stage_id, t.currency, t.probability, ${counted}
      from t left join fresh on fresh.stage_id = t.stage_id and fresh.currency = t.currency
    ) x
    group by live_stage_id, currency having sum(c) > 0`;
}

/**
 * Totals of the live board with filters, per live stage and currency: per stage one scan of the board
 * index, which covers what they read (amount, currency, owner, stage entered) — an index-only scan,
 * bounded by the amount band when there is one; kind and source look the deal up.
 */
function liveFilteredTotals(
  schema: string,
  pipelineId: string,
  layout: StageLayout,
  request: BoardRequest,
): RawBuilder<TotalsRow> {
  // Raw: a lateral scan per stage over a VALUES stage map, grouped.
  const { ownerId, stalled, ...segment } = request.filters;
  const now = timestamp(request.now);
  // The stall instant once per stage, not per deal; each stage's deals grouped by currency inside its
  // scan (a few rows out of the lateral, not every deal), then per live stage; weighted once per group.
  const isStalled = sql`coalesce(o.stage_entered_at < def.since, false)`;
  return sql<TotalsRow>`
    select def.live_stage_id, o.currency, sum(o.n)::text as count, sum(o.amount)::text as amount,
           round(sum(o.amount) * def.probability / 100)::text as weighted, sum(o.stalled)::text as stalled
    from (select def.*, ${now} - make_interval(days => def.max_days) as since from ${layoutSql(layout)}) def cross join lateral (
      select o.currency, count(*) as n, sum(o.amount) as amount, count(*) filter (where ${isStalled}) as stalled
      from ${sql.id(schema)}.deals o
      ${openDealsInSegment(schema, segment)}
        and o.pipeline_id = ${pipelineId}::uuid and o.status = 'open' and o.stage_id = def.stage_id
        ${ownerId !== undefined ? sql`and o.owner_id = ${ownerId}` : sql``}
        ${stalled !== undefined ? sql`and ${isStalled} = ${stalled}` : sql``}
      group by o.currency
    ) o
    group by def.live_stage_id, def.probability, o.currency`;
}

/** Totals per live stage and currency computed from the open deals the request selects (the statement's CTE f). */
function filteredTotals(): RawBuilder<TotalsRow> {
  // Raw: a grouping over the filtered-deals subquery, which is itself raw (see filteredDeals).
  return sql<TotalsRow>`
    select live_stage_id, currency, count(*)::text as count, sum(amount)::text as amount,
           round(sum(amount::numeric * probability) / 100)::text as weighted, count(*) filter (where stalled)::text as stalled
    from f group by live_stage_id, currency`;
}

/**
 * The distinct owners of the pipeline's open deals at `asOf`: the ids the board's owner filter can
 * match (used to resolve a pseudonym given by a caller who sees no ids in clear).
 */
export async function boardOwnerIds(
  db: ReadModelDb,
  schema: string,
  pipelineId: string,
  asOf: AsOf,
): Promise<string[]> {
  const { rows } = await sql<{
    owner_id: string;
  }>`select distinct owner_id from ${openDealsAt(schema, pipelineId, asOf)} o`.execute(db);
  return rows.map((row) => row.owner_id);
}

/** Open deals at the instant, mapped to live stages, with age and stall flags, filters applied. */
function filteredDeals(schema: string, pipelineId: string, layout: StageLayout, request: BoardRequest) {
  const { ownerId, stalled, ...segment } = request.filters;
  const now = timestamp(request.now);
  const entered = columnEnteredAt(layout, schema, request.asOf, request.now);
  return sql`(
    select o.deal_id, o.owner_id, o.amount, o.currency, o.expected_close_date, ${entered} as stage_entered_at,
           def.live_stage_id, def.probability,
           extract(epoch from (${now} - ${entered})) / 86400 as days_in_stage,
           coalesce(${entered} < ${now} - make_interval(days => def.max_days), false) as stalled
    from ${openDealsAt(schema, pipelineId, request.asOf)} o join ${layoutSql(layout)} on def.stage_id = o.stage_id
    ${openDealsInSegment(schema, segment)}
      ${ownerId !== undefined ? sql`and o.owner_id = ${ownerId}` : sql``}
      ${stalled !== undefined ? sql`and coalesce(${entered} < ${now} - make_interval(days => def.max_days), false) = ${stalled}` : sql``}
  )`;
}

/** The columns a page's subquery selects (rankedPage, livePage). */
interface BoardDealRow {
  deal_id: string;
  live_stage_id: string;
  owner_id: string;
  amount: string;
  currency: string;
  expected_close_date: string | null;
  stage_entered_at: string;
  stalled: boolean;
  days_in_stage: number;
  title: string;
  account: string;
  revision: string;
}

/** A page's deal as the board's statement returns it: BoardDealRow's values as a JSON array. */
type BoardDealTuple = [
  dealId: string,
  liveStageId: string,
  ownerId: string,
  amount: number,
  currency: string,
  expectedCloseDate: string | null,
  stageEnteredAt: string,
  stalled: boolean,
  daysInStage: number,
  title: string,
  account: string,
  revision: string,
];

function toBoardDeal([
  dealId,
  ,
  ownerId,
  amount,
  currency,
  expectedCloseDate,
  stageEnteredAt,
  stalled,
  daysInStage,
  title,
  account,
  revision,
]: BoardDealTuple): BoardDeal {
  return {
    dealId,
    title,
    account,
    ownerId,
    amount,
    currency,
    expectedCloseDate,
    stageEnteredAt: new Date(stageEnteredAt).toISOString(),
    daysInStage: Math.floor(daysInStage * 100) / 100,
    stalled,
    revision,
  };
}
