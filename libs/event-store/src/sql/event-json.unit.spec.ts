import { encodePosition } from '../port/global-position.js';
import {
  EVENT_TEXT_FIELDS,
  FIELD_SEPARATOR,
  NULLABLE_TEXT_FIELDS,
  eventJson,
  eventTextRow,
  eventsJson,
  hex16,
  isoInstant,
  jsonString,
  type EventTextRow,
} from './event-json.js';

/*
 * readAllJson writes the feed's JSON itself from text columns; each piece must be what
 * toEventView + JSON.stringify wrote before (the int suite event-view-json compares whole pages on
 * PostgreSQL and PGlite; these compare the pieces against JSON.stringify, Date and encodePosition).
 */

const AWKWARD = [
  '',
  'plain',
  'say "hi"',
  '"',
  '\\',
  'C:\\temp\\',
  '</script>',
  '\n\t\r\b\f\u0001\u001f\u007f\u0080\u009f',
  '\u0000',
  'Déjà vu — 東京',
  '😀 pair \ud83d\ude00',
  '\ud800',
  '\udfff',
  'lone high at end \ud83d',
  '\ude00 lone low at start',
  'reversed \ude00\ud83d pair',
  '\u2028\u2029',
  '\ufeff',
  '\uffff\ufffe',
  'x'.repeat(10_000) + '"',
];

describe('jsonString', () => {
  it('writes every string as JSON.stringify does', () => {
    for (const text of AWKWARD) expect(jsonString(text)).toBe(JSON.stringify(text));
  });

  it('writes every UTF-16 code unit alone and between letters as JSON.stringify does', () => {
    for (let unit = 0; unit <= 0xffff; unit++) {
      const char = String.fromCharCode(unit);
      for (const text of [char, `a${char}b`]) {
        if (jsonString(text) !== JSON.stringify(text)) throw new Error(`differs for U+${unit.toString(16)}`);
      }
    }
  });

  it('writes null as null', () => {
    expect(jsonString(null)).toBe('null');
  });
});

describe('isoInstant', () => {
  it.each([
    ['2026-01-02 03:04:05', '2026-01-02T03:04:05.000Z'],
    ['2026-01-02 03:04:05.1', '2026-01-02T03:04:05.100Z'],
    ['2026-01-02 03:04:05.12', '2026-01-02T03:04:05.120Z'],
    ['2026-01-02 03:04:05.123', '2026-01-02T03:04:05.123Z'],
    ['2026-01-02 03:04:05.1239', '2026-01-02T03:04:05.123Z'],
    ['2026-01-02 03:04:05.99999', '2026-01-02T03:04:05.999Z'],
    ['2026-12-31 23:59:59.999999', '2026-12-31T23:59:59.999Z'],
    ['1000-01-01 00:00:00', '1000-01-01T00:00:00.000Z'],
    ['9999-12-31 23:59:59.999', '9999-12-31T23:59:59.999Z'],
  ])('writes %s as toISOString truncates it (%s)', (text, iso) => {
    expect(isoInstant(text)).toBe(iso);
    // The Date node-postgres makes of the same text (microseconds dropped), written by toISOString.
    expect(new Date(`${text.replace(' ', 'T')}Z`).toISOString()).toBe(iso);
  });

  it.each([
    '0999-06-01 00:00:00',
    '10000-01-01 00:00:00',
    '0001-01-01 00:00:00 BC',
    '0001-01-01 00:00:00.5 BC',
    'infinity',
    '-infinity',
    '02.01.2026 03:04:05.123',
    '2026-01-02T03:04:05.123',
    '2026-01-02 03:04:05+00',
    '2026-01-02 03:04:05.1234567',
    '',
  ])('leaves %j to readAll (undefined)', (text) => {
    expect(isoInstant(text)).toBeUndefined();
  });
});

describe('hex16', () => {
  it.each([
    0n,
    1n,
    255n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    10n ** 15n - 1n,
    10n ** 15n,
    2n ** 63n - 1n,
    2n ** 64n - 1n,
  ])('writes %s as encodePosition does', (value) => {
    expect(`${hex16(value.toString())}-${hex16('7')}`).toBe(encodePosition({ major: value, minor: 7n }));
  });
});

const ROW: EventTextRow = {
  event_id: '0b9f2c9e-6c53-4a52-9d59-2c1b8a3f0e11',
  stream_id: 'deal-"x"',
  stream_revision: '12',
  type: 'ActivityLogged',
  data: '{"kind": "call", "note": "a \\"b\\""}',
  actor_id: 'Zoë \\ ops',
  command_id: 'cmd-1',
  correlation_id: null,
  causation_id: 'cause\n1',
  occurred_at: '2026-01-02 03:04:05.006',
  recorded_at: '2026-01-02 03:04:05.123456',
  hash: 'ab'.repeat(32),
  previous_hash: null,
  provenance: '{"importId": "imp-1", "sourceActor": "Zoë"}',
  transaction_id: '4294967296',
  global_position: '42',
};

describe('eventJson', () => {
  it("writes toEventView's members in its order, with the values JSON.stringify wrote", () => {
    const json = eventJson(ROW)!;
    const view = {
      eventId: ROW.event_id,
      streamId: ROW.stream_id,
      revision: '12',
      position: encodePosition({ major: 4294967296n, minor: 42n }),
      type: ROW.type,
      data: { kind: 'call', note: 'a "b"' },
      actorId: ROW.actor_id,
      commandId: 'cmd-1',
      correlationId: null,
      causationId: 'cause\n1',
      occurredAt: '2026-01-02T03:04:05.006Z',
      recordedAt: '2026-01-02T03:04:05.123Z',
      hash: ROW.hash,
      previousHash: null,
      provenance: { importId: 'imp-1', sourceActor: 'Zoë' },
    };
    expect(JSON.stringify(JSON.parse(json))).toBe(JSON.stringify(view));
    // Byte for byte but for the blanks jsonb puts in its own text.
    expect(json).toBe(
      JSON.stringify(view)
        .replace('{"kind":"call","note":"a \\"b\\""}', ROW.data)
        .replace('{"importId":"imp-1","sourceActor":"Zoë"}', ROW.provenance!),
    );
  });

  it('is undefined for an instant toISOString does not write as PostgreSQL does', () => {
    expect(eventJson({ ...ROW, occurred_at: '10000-01-01 00:00:00' })).toBeUndefined();
    expect(eventJson({ ...ROW, recorded_at: '0999-01-01 00:00:00' })).toBeUndefined();
  });
});

describe('eventsJson', () => {
  it('joins the events by commas, an empty page as empty text', () => {
    expect(eventsJson([])).toBe('');
    expect(eventsJson([ROW, { ...ROW, global_position: '43' }])).toBe(
      `${eventJson(ROW)},${eventJson({ ...ROW, global_position: '43' })}`,
    );
  });

  it('is undefined when any event cannot be written', () => {
    expect(eventsJson([ROW, { ...ROW, occurred_at: 'infinity' }])).toBeUndefined();
  });
});

/** An event's text as selectEventTexts has PostgreSQL write it (concat_ws, nullable columns as '=' + text or ''). */
function textOf(row: EventTextRow): string {
  return EVENT_TEXT_FIELDS.map((field) => {
    const value = row[field];
    if (!NULLABLE_TEXT_FIELDS.has(field)) return value!;
    return value === null ? '' : `=${value}`;
  }).join(FIELD_SEPARATOR);
}

describe('eventTextRow', () => {
  it('reads back every field, null, empty and "="-led nullable values apart', () => {
    expect(eventTextRow(textOf(ROW))).toEqual(ROW);
    const awkward: EventTextRow = {
      ...ROW,
      command_id: '',
      correlation_id: '=',
      causation_id: '==x',
      provenance: null,
    };
    expect(eventTextRow(textOf(awkward))).toEqual(awkward);
    const empties = { ...ROW, stream_id: '', type: '', actor_id: '' };
    expect(eventTextRow(textOf(empties))).toEqual(empties);
  });

  it.each(EVENT_TEXT_FIELDS.filter((field) => field !== 'transaction_id' && field !== 'global_position'))(
    "is undefined when %s holds the separator (the page is then readAll's)",
    (field) => {
      const text = textOf({ ...ROW, [field]: `a${FIELD_SEPARATOR}b` });
      expect(text.split(FIELD_SEPARATOR)).toHaveLength(EVENT_TEXT_FIELDS.length + 1);
      expect(eventTextRow(text)).toBeUndefined();
    },
  );

  it('is undefined for a text with fewer fields', () => {
    expect(eventTextRow(textOf(ROW).split(FIELD_SEPARATOR).slice(1).join(FIELD_SEPARATOR))).toBeUndefined();
    expect(eventTextRow('')).toBeUndefined();
  });
});
