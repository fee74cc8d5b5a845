import { startApiOnPostgres, type ApiHarness } from '../support/api-harness.js';

/**
 * Tokens are taken from the Authorization header only. One sent in the URL is refused and redacted
 * from the request log and the problem's `instance`. (Its own file: the request logger of the app
 * under test must be the only one in the process.)
 */
describe('a token sent in the URL', () => {
  let api: ApiHarness;
  const lines: string[] = [];

  beforeAll(async () => {
    api = await startApiOnPostgres({
      projectionsInProcess: false,
      logLevel: 'info',
      logDestination: { write: (line: string) => void lines.push(line) },
    });
  });
  afterAll(() => api.close());

  it('is refused, never written to the log and never echoed in the problem', async () => {
    const token = await api.token(['admin'], 'url-user');
    const deal = '/deals/00000000-0000-4000-8000-000000000000';
    const cases: [string, string | undefined, number, string][] = [
      [`${deal}?access_token=${token}`, undefined, 401, 'unauthorized'],
      [`${deal}?ACCESS_TOKEN=${token}&limit=1`, undefined, 401, 'unauthorized'],
      [`${deal}/history?token=${token}`, undefined, 401, 'unauthorized'],
      [`${deal}/history?access_token=${token}`, `Bearer ${token}`, 400, 'validation-failed'],
      [`/events?q=${encodeURIComponent(`Bearer ${token}`)}`, `Bearer ${token}`, 400, 'validation-failed'],
      [`/no-such-route?access_token=${token}`, undefined, 404, 'route-not-found'],
    ];
    const answered = [];
    for (const [path, authorization] of cases) {
      lines.length = 0;
      let call = api.http().get(path);
      if (authorization) call = call.set('Authorization', authorization);
      const response = await call;
      answered.push([path, response.status, response.body.code]);
      expect(response.text).not.toContain(token.split('.')[2]);
      expect(response.body.instance).toMatch(/=REDACTED(&|$)/);
      // The request's log line was written, with the URL but without the token.
      for (let waited = 0; lines.length === 0 && waited < 2000; waited += 10)
        await new Promise((resolve) => setTimeout(resolve, 10));
      const logged = lines.join('');
      expect(logged).toContain('"url":"/');
      expect(logged).toContain('REDACTED');
      expect(logged).not.toContain(token.split('.')[2]);
    }
    expect(answered).toEqual(cases.map(([path, , status, code]) => [path, status, code]));
    const first = await api.http().get(cases[0][0]);
    expect(first.body.detail).toMatch(/Authorization header/);
  });
});
