import { isJsonMediaType, mediaTypeOf, pathOf, preferredMediaType } from './http-exchange.js';

const OFFERED = ['application/json', 'text/csv', 'application/x-ndjson'];

describe('preferredMediaType (Accept negotiation, as express’s request.accepts had it)', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['text/csv', 'text/csv'],
    ['application/x-ndjson', 'application/x-ndjson'],
    ['*/*', 'application/json'],
    ['text/*', 'text/csv'],
    ['text/csv;q=0.5, application/x-ndjson', 'application/x-ndjson'],
    ['text/csv, application/json;q=0.9', 'text/csv'],
    ['application/json;q=0, */*;q=0.1', 'text/csv'],
    ['TEXT/CSV', 'text/csv'],
    ['image/png', undefined],
    ['text/csv;q=0', undefined],
  ])('Accept %p → %p', (accept, expected) => {
    expect(preferredMediaType(accept, OFFERED)).toBe(expected);
  });
});

describe('media types and paths', () => {
  it('reads the media type without parameters, lower-cased', () => {
    expect(mediaTypeOf('Application/JSON; charset=utf-8')).toBe('application/json');
    expect(mediaTypeOf(undefined)).toBe('');
    expect(mediaTypeOf(['text/csv', 'text/plain'])).toBe('text/csv');
  });

  it('takes application/json and +json suffixes as JSON, nothing else', () => {
    expect(
      ['application/json', 'application/merge-patch+json', 'application/problem+json'].map(isJsonMediaType),
    ).toEqual([true, true, true]);
    expect(['text/json', 'application/x-ndjson', 'application/jsonx', ''].map(isJsonMediaType)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });

  it('drops the query string from a path', () => {
    expect(pathOf({ url: '/imports?x=1' })).toBe('/imports');
    expect(pathOf({ url: '/imports' })).toBe('/imports');
  });
});
