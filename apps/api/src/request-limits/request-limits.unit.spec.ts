import { MAX_JSON_DEPTH, jsonBodyFault } from './request-limits.js';

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
