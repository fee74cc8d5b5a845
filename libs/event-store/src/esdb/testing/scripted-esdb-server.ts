import { once } from 'node:events';
import { Socket, createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import anyPb from 'google-protobuf/google/protobuf/any_pb.js';
import emptyPb from 'google-protobuf/google/protobuf/empty_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import featuresGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import featuresPb from '@eventstore/db-client/generated/serverfeatures_pb.js';

/**
 * A gRPC server speaking EventStoreDB's streams protocol from @eventstore/db-client's own generated
 * definitions, for the adapter's FAILURE PATHS ONLY: answering slowly, "Server Is Not Ready", "Server
 * Is Too Busy", cancelled, an unknown error, or dropping the connection mid-append. It is not
 * EventStoreDB and never stands in for the contract suite (which runs only against a real server).
 *
 * What it models of the server, because the adapter's retries depend on it:
 * - appends check the expected revision; a retry whose ids sit right after the expected position is
 *   answered with success without writing (KurrentDB's idempotency check at the expected position);
 *   an `any` append whose ids are stored consecutively is recognised likewise; ids elsewhere in the
 *   stream are NOT checked when the expected revision is the current one (written again, as the
 *   real server does);
 * - `$all` positions grow by 100 per record, commit = prepare; `$`-prefixed system events can be
 *   added to stand for the server's own ($statsCollection, …);
 * - reads forwards and backwards, from a revision or the ends, stream-not-found, stream-deleted for a
 *   tombstoned stream (`tombstone`: reads only); `$all` reads from a
 *   position (inclusive) or the start; catch-up subscriptions to `$all` with the system-event filter,
 *   honouring the HTTP/2 flow control (a paused reader stops the server's writes).
 */

/** What the server does with the next call of a kind. `commit` (default true): the events are stored before the fault. */
export type ScriptedFault =
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'not-ready'; readonly commit?: false }
  | { readonly kind: 'busy'; readonly commit?: false }
  | { readonly kind: 'cancelled'; readonly commit?: boolean }
  | { readonly kind: 'unknown'; readonly commit?: boolean }
  | { readonly kind: 'drop'; readonly commit?: boolean }
  | { readonly kind: 'hang' };

export type ScriptedCallKind = 'append' | 'read' | 'features';

export interface StoredRecord {
  readonly streamId: string;
  readonly revision: bigint;
  readonly id: string;
  readonly type: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
  readonly contentType: string;
  readonly position: bigint;
  /** .NET ticks (100 ns since the epoch), as the server reports `created`. */
  readonly createdTicks: bigint;
}

export interface ScriptedEsdbServerOptions {
  /** Advertise BatchAppend in ServerFeatures (the client then appends over its shared batch stream). Default true. */
  readonly batchAppend?: boolean;
}

const { StreamsService } = streamsGrpc;
const { ServerFeaturesService } = featuresGrpc;
const { ReadResp, AppendResp, BatchAppendResp } = streamsPb;
type ReadReq = InstanceType<typeof streamsPb.ReadReq>;

export class ScriptedEsdbServer {
  /** Faults for the coming calls of each kind, taken in order; an empty queue answers normally. */
  readonly script: Record<ScriptedCallKind, ScriptedFault[]> = { append: [], read: [], features: [] };
  /** How many calls of each kind arrived (appends: one per append, batch or not). */
  readonly calls: Record<ScriptedCallKind, number> = { append: 0, read: 0, features: 0 };
  /** Events written to `$all` subscriptions so far (all subscriptions together). */
  subscriptionSent = 0;
  /** Events sent by stream reads (not `$all`), all calls together. */
  streamEventsSent = 0;
  /** For each `Append` call: when it arrived and the deadline the client gave it (ms since the epoch; undefined: none). */
  readonly appendDeadlines: Array<{ readonly arrivedAt: number; readonly deadline: number | undefined }> = [];
  /** Events per `$all` read call the server sent (system events included). */
  readonly allReadsSent: number[] = [];
  private readonly log: StoredRecord[] = [];
  private readonly streams = new Map<string, StoredRecord[]>();
  private readonly tombstoned = new Set<string>();
  private readonly subscribers = new Set<() => void>();
  private readonly grpcServer = new grpc.Server();
  private proxy?: TcpServer;
  private readonly sockets = new Set<Socket>();
  private nextPosition = 100n;
  private grpcPort = 0;
  private port = 0;

  constructor(private readonly options: ScriptedEsdbServerOptions = {}) {}

  /** The connection string of the server (insecure, on loopback). */
  get connectionString(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  /** Every record in `$all` order, system events included. */
  get records(): readonly StoredRecord[] {
    return this.log;
  }

  /** Live `$all` subscriptions. */
  get subscriptionCount(): number {
    return this.subscribers.size;
  }

  async start(): Promise<this> {
    this.grpcServer.addService(StreamsService, {
      read: (call: grpc.ServerWritableStream<ReadReq, unknown>) => void this.read(call),
      append: (
        call: grpc.ServerReadableStream<InstanceType<typeof streamsPb.AppendReq>, unknown>,
        callback: grpc.sendUnaryData<unknown>,
      ) => this.append(call, callback),
      batchAppend: (call: grpc.ServerDuplexStream<InstanceType<typeof streamsPb.BatchAppendReq>, unknown>) =>
        this.batchAppend(call),
      delete: unimplemented,
      tombstone: unimplemented,
    });
    this.grpcServer.addService(ServerFeaturesService, {
      getSupportedMethods: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => void this.features(callback),
    });
    this.grpcPort = await new Promise<number>((resolve, reject) =>
      this.grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) =>
        error ? reject(error) : resolve(port),
      ),
    );
    // A TCP proxy in front, so a "drop" really breaks the connection under the client.
    this.proxy = createTcpServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.grpcPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        // As grpc-js does on its own connection: without it, Nagle + delayed ACK add ~40 ms to a
        // client-streaming Append (header, message and end are separate small writes).
        socket.setNoDelay(true);
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    this.proxy.listen(0, '127.0.0.1');
    await once(this.proxy, 'listening');
    this.port = (this.proxy.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((resolve) => this.proxy?.close(() => resolve()) ?? resolve());
    this.grpcServer.forceShutdown();
  }

  /** Breaks every open connection (the client sees its calls fail mid-flight). */
  dropConnections(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** Appends `count` system events (`$statsCollected` in `$stats-…`), as an idle server accumulates them. */
  addSystemEvents(count: number): void {
    for (let i = 0; i < count; i++) {
      this.store('$stats-127.0.0.1:2113', [
        {
          id: crypto.randomUUID(),
          type: '$statsCollected',
          data: Buffer.from('{}'),
          metadata: new Uint8Array(),
          contentType: 'application/json',
        },
      ]);
    }
  }

  /** Stores `count` events of `type` in `streamId` directly (JSON data `{ n }`, dealstream-like metadata). */
  addEvents(streamId: string, count: number, type = 'DealNoted'): void {
    const metadata = Buffer.from(JSON.stringify({ actorId: 'seed', occurredAt: '2026-01-01T00:00:00.000Z' }));
    for (let n = 0; n < count; n++) {
      this.store(streamId, [
        {
          id: crypto.randomUUID(),
          type,
          data: Buffer.from(JSON.stringify({ n })),
          metadata,
          contentType: 'application/json',
        },
      ]);
    }
  }

  /**
   * Changes a stored event in place (a tamper test's "someone edited the log"): its data, and/or its
   * metadata through `metadata(old) => new`.
   */
  tamper(
    streamId: string,
    revision: bigint,
    change: { data?: object; metadata?: (metadata: Record<string, unknown>) => Record<string, unknown> },
  ): void {
    const records = this.streams.get(streamId) ?? [];
    const index = records.findIndex((r) => r.revision === revision);
    if (index < 0) throw new Error(`no ${streamId}@${revision}`);
    const old = records[index];
    const changed: StoredRecord = {
      ...old,
      ...(change.data ? { data: Buffer.from(JSON.stringify(change.data)) } : {}),
      ...(change.metadata
        ? {
            metadata: Buffer.from(
              JSON.stringify(
                change.metadata(JSON.parse(Buffer.from(old.metadata).toString('utf8')) as Record<string, unknown>),
              ),
            ),
          }
        : {}),
    };
    records[index] = changed;
    this.log[this.log.indexOf(old)] = changed;
  }

  /** Removes a stream and its events from the log (a tamper test's "someone deleted it"). */
  deleteStream(streamId: string): void {
    this.streams.delete(streamId);
    for (let i = this.log.length - 1; i >= 0; i--) if (this.log[i].streamId === streamId) this.log.splice(i, 1);
  }

  /**
   * Hard-deletes a stream as `$tb`/tombstone does on EventStoreDB (a tamper test's "someone deleted it
   * for good"): its events stay in `$all` (until a scavenge), but reading the stream answers
   * FAILED_PRECONDITION with the `exception: stream-deleted` trailer — KurrentDB's
   * `RpcExceptions.StreamDeleted`, read from its source, not observed — which the client surfaces as
   * `StreamDeletedError`. Reads only: appends to it are not modelled.
   */
  tombstone(streamId: string): void {
    this.tombstoned.add(streamId);
  }

  private next(kind: ScriptedCallKind): ScriptedFault | undefined {
    this.calls[kind]++;
    return this.script[kind].shift();
  }

  private async features(callback: grpc.sendUnaryData<unknown>): Promise<void> {
    const fault = this.next('features');
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'delay') await sleep(fault.ms);
    const methods = new featuresPb.SupportedMethods();
    const list = [];
    if (this.options.batchAppend ?? true) {
      const method = new featuresPb.SupportedMethod();
      method.setServiceName('event_store.client.streams.Streams');
      method.setMethodName('BatchAppend');
      list.push(method);
    }
    methods.setMethodsList(list);
    methods.setEventStoreServerVersion('0.0.0-scripted');
    callback(null, methods);
  }

  // ---- appends -------------------------------------------------------------------------------

  private append(
    call: grpc.ServerReadableStream<InstanceType<typeof streamsPb.AppendReq>, unknown>,
    callback: grpc.sendUnaryData<unknown>,
  ): void {
    const deadline = call.getDeadline();
    this.appendDeadlines.push({
      arrivedAt: Date.now(),
      deadline: deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : undefined,
    });
    let options: InstanceType<typeof streamsPb.AppendReq.Options> | undefined;
    const proposed: Proposed[] = [];
    call.on('data', (request: InstanceType<typeof streamsPb.AppendReq>) => {
      if (request.hasOptions()) options = request.getOptions();
      else if (request.hasProposedMessage()) proposed.push(toProposed(request.getProposedMessage()!));
    });
    call.on('error', () => undefined);
    call.on('end', () => {
      void (async () => {
        const streamId = Buffer.from(options!.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
        const expected = expectedOf(options!);
        const fault = this.next('append');
        const outcome = await this.applyFault(fault, () => this.decide(streamId, expected, proposed));
        if (outcome.kind === 'silent') return;
        if (outcome.kind === 'status') return callback({ code: outcome.code, details: outcome.message });
        const response = new AppendResp();
        if (outcome.result.kind === 'ok') {
          const success = new AppendResp.Success();
          success.setCurrentRevision(outcome.result.revision.toString());
          const position = new AppendResp.Position();
          position.setCommitPosition(outcome.result.position.toString());
          position.setPreparePosition(outcome.result.position.toString());
          success.setPosition(position);
          response.setSuccess(success);
        } else {
          const wrong = new AppendResp.WrongExpectedVersion();
          if (outcome.result.current === undefined) wrong.setCurrentNoStream(new sharedPb.Empty());
          else wrong.setCurrentRevision(outcome.result.current.toString());
          if (typeof expected === 'bigint') wrong.setExpectedRevision(expected.toString());
          else if (expected === 'no_stream') wrong.setExpectedNoStream(new sharedPb.Empty());
          else if (expected === 'stream_exists') wrong.setExpectedStreamExists(new sharedPb.Empty());
          else wrong.setExpectedAny(new sharedPb.Empty());
          response.setWrongExpectedVersion(wrong);
        }
        if (!call.cancelled) callback(null, response);
      })();
    });
  }

  private batchAppend(call: grpc.ServerDuplexStream<InstanceType<typeof streamsPb.BatchAppendReq>, unknown>): void {
    const pending = new Map<
      string,
      { options?: InstanceType<typeof streamsPb.BatchAppendReq.Options>; proposed: Proposed[] }
    >();
    call.on('error', () => undefined);
    call.on('data', (request: InstanceType<typeof streamsPb.BatchAppendReq>) => {
      const correlation = request.getCorrelationId()!;
      const key = correlation.getString();
      const entry = pending.get(key) ?? { proposed: [] };
      pending.set(key, entry);
      if (request.hasOptions()) entry.options = request.getOptions();
      for (const message of request.getProposedMessagesList()) entry.proposed.push(toProposed(message));
      if (!request.getIsFinal()) return;
      pending.delete(key);
      void (async () => {
        const options = entry.options!;
        const identifier = options.getStreamIdentifier()!;
        const streamId = Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
        const expected = batchExpectedOf(options);
        const fault = this.next('append');
        const outcome = await this.applyFault(fault, () => this.decide(streamId, expected, entry.proposed));
        if (outcome.kind === 'silent') return;
        if (outcome.kind === 'status' && outcome.wholeCall) {
          call.emit('error', { code: outcome.code, details: outcome.message });
          return;
        }
        const response = new BatchAppendResp();
        response.setCorrelationId(correlation);
        response.setStreamIdentifier(identifier);
        if (outcome.kind === 'status') {
          // What KurrentDB puts in a batch reply it cannot serve: a google.rpc.Status whose details
          // the client does not recognise (it surfaces an UnknownError).
          const status = new statusPb.Status();
          status.setCode(outcome.code);
          status.setMessage(outcome.message);
          const details = new anyPb.Any();
          details.pack(new emptyPb.Empty().serializeBinary(), 'google.protobuf.Empty');
          status.setDetails(details);
          response.setError(status);
        } else if (outcome.result.kind === 'ok') {
          const success = new BatchAppendResp.Success();
          success.setCurrentRevision(outcome.result.revision.toString());
          const position = new sharedPb.AllStreamPosition();
          position.setCommitPosition(outcome.result.position.toString());
          position.setPreparePosition(outcome.result.position.toString());
          success.setPosition(position);
          response.setSuccess(success);
        } else {
          const wrong = new sharedPb.WrongExpectedVersion();
          if (outcome.result.current === undefined) wrong.setCurrentNoStream(new emptyPb.Empty());
          else wrong.setCurrentStreamRevision(outcome.result.current.toString());
          const status = new statusPb.Status();
          status.setCode(9); // FAILED_PRECONDITION
          status.setMessage('WrongExpectedVersion');
          const details = new anyPb.Any();
          details.pack(wrong.serializeBinary(), 'event_store.client.WrongExpectedVersion');
          status.setDetails(details);
          response.setError(status);
        }
        if (!call.cancelled && call.writable) call.write(response);
      })();
    });
    call.on('end', () => call.end());
  }

  /** Applies the scripted fault around `decide` (which stores, when the append is written). */
  private async applyFault(
    fault: ScriptedFault | undefined,
    decide: () => AppendDecision,
  ): Promise<
    | { kind: 'result'; result: AppendDecision }
    | { kind: 'status'; code: number; message: string; wholeCall: boolean }
    | { kind: 'silent' }
  > {
    if (!fault) return { kind: 'result', result: decide() };
    switch (fault.kind) {
      case 'delay': {
        const result = decide();
        await sleep(fault.ms);
        return { kind: 'result', result };
      }
      case 'hang':
        return { kind: 'silent' };
      case 'not-ready':
        return { kind: 'status', code: grpc.status.UNAVAILABLE, message: 'Server Is Not Ready', wholeCall: false };
      case 'busy':
        return { kind: 'status', code: grpc.status.UNAVAILABLE, message: 'Server Is Too Busy', wholeCall: false };
      case 'unknown':
        if (fault.commit ?? true) decide();
        return { kind: 'status', code: grpc.status.UNKNOWN, message: 'Unexpected error', wholeCall: false };
      case 'cancelled':
        if (fault.commit ?? true) decide();
        return { kind: 'status', code: grpc.status.CANCELLED, message: 'Cancelled by the server', wholeCall: true };
      case 'drop':
        if (fault.commit ?? true) decide();
        this.dropConnections();
        return { kind: 'silent' };
    }
  }

  /** The server's decision for an append; stores the events when it writes them. */
  private decide(streamId: string, expected: Expected, proposed: readonly Proposed[]): AppendDecision {
    const records = this.streams.get(streamId) ?? [];
    const current = records.at(-1)?.revision;
    const ids = proposed.map((p) => p.id.toLowerCase());
    const matchesAt = (first: number) =>
      first >= 0 &&
      first + ids.length <= records.length &&
      ids.every((id, i) => records[first + i].id.toLowerCase() === id);
    const recognised = (first: number): AppendDecision => {
      const last = records[first + ids.length - 1];
      return { kind: 'ok', revision: last.revision, position: last.position };
    };
    if (expected === 'any') {
      const first = records.findIndex((r) => r.id.toLowerCase() === ids[0]);
      if (first >= 0 && matchesAt(first)) return recognised(first);
      return this.write(streamId, proposed);
    }
    const expectedIndex = expected === 'no_stream' ? -1 : expected === 'stream_exists' ? undefined : Number(expected);
    if (expectedIndex !== undefined && matchesAt(expectedIndex + 1)) return recognised(expectedIndex + 1);
    const holds =
      expected === 'no_stream'
        ? current === undefined
        : expected === 'stream_exists'
          ? current !== undefined
          : current === expected;
    if (!holds) return { kind: 'wrong', current };
    return this.write(streamId, proposed);
  }

  private write(streamId: string, proposed: readonly Proposed[]): AppendDecision {
    const stored = this.store(streamId, proposed);
    const last = stored.at(-1)!;
    return { kind: 'ok', revision: last.revision, position: last.position };
  }

  private store(streamId: string, proposed: readonly Proposed[]): StoredRecord[] {
    const records = this.streams.get(streamId) ?? [];
    this.streams.set(streamId, records);
    const createdTicks = BigInt(Date.now()) * 10_000n;
    const stored = proposed.map((p, i) => {
      const record: StoredRecord = {
        streamId,
        revision: BigInt(records.length + i),
        id: p.id,
        type: p.type,
        data: p.data,
        metadata: p.metadata,
        contentType: p.contentType,
        position: this.nextPosition,
        createdTicks,
      };
      this.nextPosition += 100n;
      return record;
    });
    records.push(...stored);
    this.log.push(...stored);
    for (const wake of this.subscribers) wake();
    return stored;
  }

  // ---- reads ---------------------------------------------------------------------------------

  private async read(call: grpc.ServerWritableStream<ReadReq, unknown>): Promise<void> {
    const options = call.request.getOptions()!;
    const fault = this.next('read');
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'delay') await sleep(fault.ms);
    if (fault && fault.kind !== 'delay') {
      if (fault.kind === 'drop') return this.dropConnections();
      const [code, message] =
        fault.kind === 'not-ready'
          ? [grpc.status.UNAVAILABLE, 'Server Is Not Ready']
          : fault.kind === 'busy'
            ? [grpc.status.UNAVAILABLE, 'Server Is Too Busy']
            : fault.kind === 'cancelled'
              ? [grpc.status.CANCELLED, 'Cancelled by the server']
              : [grpc.status.UNKNOWN, 'Unexpected error'];
      call.emit('error', { code, details: message });
      return;
    }
    const backwards = options.getReadDirection() === streamsPb.ReadReq.Options.ReadDirection.BACKWARDS;
    const count = options.hasCount() ? BigInt(options.getCount()) : BigInt(Number.MAX_SAFE_INTEGER);
    if (options.hasStream()) {
      const streamOptions = options.getStream()!;
      const streamId = Buffer.from(streamOptions.getStreamIdentifier()!.getStreamName_asU8()).toString('utf8');
      if (this.tombstoned.has(streamId)) {
        const trailer = new grpc.Metadata();
        trailer.set('exception', 'stream-deleted');
        trailer.set('stream-name', streamId);
        call.emit('error', {
          code: grpc.status.FAILED_PRECONDITION,
          details: `Event stream '${streamId}' is deleted.`,
          metadata: trailer,
        });
        return;
      }
      const records = this.streams.get(streamId);
      if (!records || records.length === 0) {
        const notFound = new ReadResp.StreamNotFound();
        notFound.setStreamIdentifier(streamOptions.getStreamIdentifier());
        const response = new ReadResp();
        response.setStreamNotFound(notFound);
        call.write(response);
        call.end();
        return;
      }
      let selected: StoredRecord[];
      if (backwards) {
        const from = streamOptions.hasRevision() ? BigInt(streamOptions.getRevision()) : records.at(-1)!.revision;
        selected = records.filter((r) => r.revision <= from).reverse();
      } else {
        const from = streamOptions.hasRevision() ? BigInt(streamOptions.getRevision()) : 0n;
        selected = records.filter((r) => r.revision >= from);
      }
      const sent = selected.slice(0, Number(count));
      this.streamEventsSent += sent.length;
      await this.send(call, sent);
      call.end();
      return;
    }
    const all = options.getAll()!;
    const from = all.hasPosition() ? BigInt(all.getPosition()!.getCommitPosition()) : 0n;
    if (options.hasSubscription()) return this.subscribe(call, options, from, all.hasPosition());
    const selected = backwards
      ? this.log
          .filter((r) => !all.hasPosition() || r.position <= from)
          .reverse()
          .slice(0, Number(count))
      : this.log.filter((r) => r.position >= from).slice(0, Number(count));
    this.allReadsSent.push(selected.length);
    await this.send(call, selected);
    call.end();
  }

  /** A catch-up subscription to `$all` after `from` (exclusive when a position was given), then live. */
  private async subscribe(
    call: grpc.ServerWritableStream<ReadReq, unknown>,
    options: InstanceType<typeof streamsPb.ReadReq.Options>,
    from: bigint,
    exclusive: boolean,
  ): Promise<void> {
    const excludeSystem = options.hasFilter();
    const confirmation = new ReadResp();
    const confirm = new ReadResp.SubscriptionConfirmation();
    confirm.setSubscriptionId(crypto.randomUUID());
    confirmation.setConfirmation(confirm);
    call.write(confirmation);
    let index = this.log.findIndex((r) => (exclusive ? r.position > from : r.position >= from));
    if (index < 0) index = this.log.length;
    let wake: (() => void) | undefined;
    const wakeUp = () => wake?.();
    this.subscribers.add(wakeUp);
    const ended = new Promise<void>((resolve) => {
      call.on('cancelled', resolve);
      call.on('close', resolve);
      call.on('error', resolve);
    });
    let done = false;
    void ended.then(() => {
      done = true;
      wake?.();
    });
    try {
      while (!done) {
        while (!done && index < this.log.length) {
          const record = this.log[index++];
          if (excludeSystem && (record.type.startsWith('$') || record.streamId.startsWith('$'))) continue;
          // Respect HTTP/2 flow control: a reader that stopped reading stops the server here.
          this.subscriptionSent++;
          if (!call.write(eventResponse(record))) await Promise.race([once(call, 'drain'), ended]);
        }
        if (done) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.subscribers.delete(wakeUp);
    }
  }

  private async send(
    call: grpc.ServerWritableStream<unknown, unknown>,
    records: readonly StoredRecord[],
  ): Promise<void> {
    for (const record of records) {
      if (call.cancelled) return;
      if (!call.write(eventResponse(record))) await once(call, 'drain');
    }
  }
}

type Expected = 'any' | 'no_stream' | 'stream_exists' | bigint;
type AppendDecision =
  { kind: 'ok'; revision: bigint; position: bigint } | { kind: 'wrong'; current: bigint | undefined };
interface Proposed {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly metadata: Uint8Array;
}

function toProposed(message: {
  getId(): InstanceType<typeof sharedPb.UUID> | undefined;
  getMetadataMap(): { get(key: string): string | undefined };
  getData_asU8(): Uint8Array;
  getCustomMetadata_asU8(): Uint8Array;
}): Proposed {
  return {
    id: message.getId()!.getString(),
    type: message.getMetadataMap().get('type') ?? '',
    contentType: message.getMetadataMap().get('content-type') ?? 'application/octet-stream',
    data: message.getData_asU8(),
    metadata: message.getCustomMetadata_asU8(),
  };
}

function expectedOf(options: InstanceType<typeof streamsPb.AppendReq.Options>): Expected {
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  if (options.hasAny()) return 'any';
  return BigInt(options.getRevision());
}

function batchExpectedOf(options: InstanceType<typeof streamsPb.BatchAppendReq.Options>): Expected {
  if (options.hasNoStream()) return 'no_stream';
  if (options.hasStreamExists()) return 'stream_exists';
  if (options.hasAny()) return 'any';
  return BigInt(options.getStreamPosition());
}

function eventResponse(record: StoredRecord): InstanceType<typeof ReadResp> {
  const recorded = new ReadResp.ReadEvent.RecordedEvent();
  const id = new sharedPb.UUID();
  id.setString(record.id);
  recorded.setId(id);
  const identifier = new sharedPb.StreamIdentifier();
  identifier.setStreamName(Buffer.from(record.streamId, 'utf8'));
  recorded.setStreamIdentifier(identifier);
  recorded.setStreamRevision(record.revision.toString());
  recorded.setCommitPosition(record.position.toString());
  recorded.setPreparePosition(record.position.toString());
  recorded.getMetadataMap().set('type', record.type);
  recorded.getMetadataMap().set('content-type', record.contentType);
  recorded.getMetadataMap().set('created', record.createdTicks.toString());
  recorded.setData(record.data);
  recorded.setCustomMetadata(record.metadata);
  const event = new ReadResp.ReadEvent();
  event.setEvent(recorded);
  event.setCommitPosition(record.position.toString());
  const response = new ReadResp();
  response.setEvent(event);
  return response;
}

function unimplemented(_call: unknown, callback: grpc.sendUnaryData<unknown>): void {
  callback({ code: grpc.status.UNIMPLEMENTED, details: 'not scripted' });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
