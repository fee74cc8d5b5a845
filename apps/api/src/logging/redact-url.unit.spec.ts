import { redactUrl } from './redact-url.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

describe('redactUrl', () => {
  it('replaces credentials named as such and anything shaped like a JWT, and leaves the rest', () => {
    const cases: [string, string][] = [
      ['/deals/1', '/deals/1'],
      ['/deals/1?limit=5&after=3', '/deals/1?limit=5&after=3'],
      [`/deals/1?access_token=${JWT}`, '/deals/1?access_token=REDACTED'],
      [`/deals/1?limit=5&access_token=${JWT}&after=3`, '/deals/1?limit=5&access_token=REDACTED&after=3'],
      ['/deals/1?ACCESS_TOKEN=opaque-secret', '/deals/1?ACCESS_TOKEN=REDACTED'],
      ['/deals/1?api_key=k1&token=t2', '/deals/1?api_key=REDACTED&token=REDACTED'],
      [`/deals/1?x=${JWT}`, '/deals/1?x=REDACTED'],
      [`/deals/1?x=${encodeURIComponent(`Bearer ${JWT}`)}`, '/deals/1?x=REDACTED'],
      [`/deals/1?access%5Ftoken=${JWT}`, '/deals/1?access%5Ftoken=REDACTED'],
      [`/deals/${JWT}/history`, '/deals/REDACTED/history'],
      [`/deals/1?${JWT}`, '/deals/1?REDACTED'],
      [
        '/deals/1?minPosition=0000000000000001-0000000000000002',
        '/deals/1?minPosition=0000000000000001-0000000000000002',
      ],
      ['/deals/1?%E0%A4%A=1', '/deals/1?%E0%A4%A=1'],
    ];
    expect(cases.map(([url]) => [url, redactUrl(url)])).toEqual(cases);
  });
});
