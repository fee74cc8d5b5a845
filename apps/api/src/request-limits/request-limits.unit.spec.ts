import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { ApiProblem } from '../problem/api-problem.js';
import {
  MAX_JSON_DEPTH,
  charsetFault,
  decodedBody,
  jsonBodyFault,
  parseJsonBody,
  queryStringFault,
} from './request-limits.js';

const nested = (depth: number): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = i % 2 === 0 ? { a: value } : [value];
  return value;
};

describe('jsonBodyFault: what no JSON body may hold', () => {
  it(`accepts ${MAX_JSON_DEPTH} levels of nesting and refuses ${MAX_JSON_DEPTH + 1}`, () => {
    expect(jsonBodyFault(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonBodyFault(nested(MAX_JSON_DEPTH + 1))?.code).toBe('json-too-deep');
  });

  it('walks 100,000 levels without overflowing the stack', () => {
    expect(jsonBodyFault(JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`))?.code).toBe('json-too-deep');
  });

  it.each([
    ['NUL in a value', { title: 'a\u0000b' }],
    ['NUL in a key', { ['ti\u0000tle']: 'x' }],
    ['a lone high surrogate', { title: '\ud800' }],
    ['a lone low surrogate deep in an array', { stages: [{ name: ['x', 'y\udc00'] }] }],
    ['an escape character', { note: '\u001b[2J' }],
    ['DEL', { note: 'a\u007f' }],
    ['a C1 control', { note: 'a\u0085' }],
  ])('refuses %s', (_label, body) => {
    expect(jsonBodyFault(body)?.code).toBe('invalid-characters');
  });

  it.each([
    ['tab and line breaks', { note: 'line 1\r\n\tline 2' }],
    ['emoji and other scripts', { title: 'ACME 🚀 東京 Ærø' }],
    ['numbers, booleans, null', { a: 1, b: -0, c: true, d: null, e: [] }],
  ])('accepts %s', (_label, body) => {
    expect(jsonBodyFault(body)).toBeUndefined();
  });

  it('costs about what JSON.parse of the same body costs (measured, printed)', () => {
    const body = {
      stages: Array.from({ length: 600 }, (_, i) => ({
        stageId: `11111111-1111-4111-8111-${String(i).padStart(12, '0')}`,
        name: `Stage ${i} — Ærø 🚀`,
        probability: i % 100,
        goal: { maxDaysInStage: 10 },
      })),
    };
    expect(JSON.stringify(body).length).toBeGreaterThan(60_000);
    for (let i = 0; i < 50; i += 1) jsonBodyFault(body); // warm-up
    const runs = 500;
    const started = process.hrtime.bigint();
    for (let i = 0; i < runs; i += 1) jsonBodyFault(body);
    const perBodyMs = Number(process.hrtime.bigint() - started) / 1e6 / runs;
    const parseStarted = process.hrtime.bigint();
    const text = JSON.stringify(body);
    for (let i = 0; i < runs; i += 1) JSON.parse(text);
    const parseMs = Number(process.hrtime.bigint() - parseStarted) / 1e6 / runs;
    console.log(
      `jsonBodyFault on a ${text.length}-byte body: ${perBodyMs.toFixed(3)} ms (JSON.parse of it: ${parseMs.toFixed(3)} ms)`,
    );
    expect(perBodyMs).toBeLessThan(5);
  });
});

describe('parseJsonBody (the API’s one JSON parser)', () => {
  const codeOf = (text: string) => {
    try {
      parseJsonBody(text);
      return undefined;
    } catch (error) {
      return (error as ApiProblem).code;
    }
  };

  it('parses objects and arrays, with a BOM or surrounding whitespace; an empty body is no body', () => {
    expect(parseJsonBody('{"a":[1,2]}')).toEqual({ a: [1, 2] });
    expect(parseJsonBody('\uFEFF \n[1]')).toEqual([1]);
    expect(parseJsonBody('')).toBeUndefined();
  });

  it('refuses what is not JSON, and JSON that is not an object or an array, as malformed-json', () => {
    expect(['{"a":', '"deal"', '42', 'null', ' true', '   '].map(codeOf)).toEqual(Array(6).fill('malformed-json'));
  });

  it('refuses depth and characters before anything recurses into the value', () => {
    expect(codeOf(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toBe('json-too-deep');
    expect(codeOf('{"a":"x\\u0000"}')).toBe('invalid-characters');
    expect(codeOf('{"a":"\\ud800"}')).toBe('invalid-characters');
  });
});

describe('charsetFault and queryStringFault', () => {
  it('takes UTF-8 (or no charset) and refuses any other with 415', () => {
    expect(charsetFault('application/json')).toBeUndefined();
    expect(charsetFault('application/json; charset=UTF-8')).toBeUndefined();
    expect(charsetFault('application/json; charset="utf-8"')).toBeUndefined();
    expect(charsetFault('application/json; charset=latin1')).toMatchObject({
      status: 415,
      code: 'unsupported-media-type',
    });
  });

  it('refuses a query string that is not UTF-8 or holds control characters', () => {
    expect(queryStringFault('/events?limit=10')).toBeUndefined();
    expect(queryStringFault('/events')).toBeUndefined();
    expect(queryStringFault('/events?q=%E0%A4%A')).toMatchObject({ status: 400, code: 'invalid-query' });
    expect(queryStringFault('/events?q=%00')).toMatchObject({ status: 400, code: 'invalid-characters' });
  });
});

describe('decodedBody (Content-Encoding of a JSON body)', () => {
  const requestWith = (encoding?: string) =>
    ({ headers: encoding === undefined ? {} : { 'content-encoding': encoding } }) as unknown as IncomingMessage;
  const read = async (stream: NodeJS.ReadableStream) => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  };

  it('passes identity through and decodes gzip, deflate and br', async () => {
    const body = '{"title":"é"}';
    expect(await read(decodedBody(requestWith(), Readable.from([Buffer.from(body)])))).toBe(body);
    expect(await read(decodedBody(requestWith('gzip'), Readable.from([gzipSync(body)])))).toBe(body);
    expect(await read(decodedBody(requestWith('deflate'), Readable.from([deflateSync(body)])))).toBe(body);
    expect(await read(decodedBody(requestWith('br'), Readable.from([brotliCompressSync(body)])))).toBe(body);
  });

  it('refuses any other encoding with 415', () => {
    expect(() => decodedBody(requestWith('compress'), Readable.from([]))).toThrow(
      expect.objectContaining({ status: 415, code: 'unsupported-media-type' }),
    );
  });
});
