import { TargetPolicy, TargetRefusedError, type Resolve } from './target-policy.js';

const names: Record<string, string[]> = {
  'hooks.example.com': ['93.184.215.14'],
  'rebound.example.com': ['93.184.215.14', '127.0.0.1'],
  'metadata.example.com': ['169.254.169.254'],
  'v6private.example.com': ['fd00::1'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
};
const resolve: Resolve = async (host) => {
  const addresses = names[host];
  if (!addresses) throw new Error('ENOTFOUND');
  return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

async function reason(policy: TargetPolicy, url: string): Promise<string> {
  try {
    await policy.vet(url);
    return 'allowed';
  } catch (error) {
    if (error instanceof TargetRefusedError) return error.reason;
    throw error;
  }
}

describe('webhook target policy (SSRF)', () => {
  const strict = new TargetPolicy('', resolve);

  it('allows a public https host and answers its addresses', async () => {
    await expect(strict.vet('https://hooks.example.com/x')).resolves.toMatchObject({
      addresses: [{ address: '93.184.215.14', family: 4 }],
    });
  });

  it.each([
    'https://127.0.0.1/',
    'https://127.1.2.3/',
    'https://10.0.0.1/',
    'https://172.20.0.1/',
    'https://192.168.1.1/',
    'https://169.254.169.254/latest/meta-data',
    'https://100.64.0.1/',
    'https://0.0.0.0/',
    'https://[::1]/',
    'https://[fe80::1]/',
    'https://[fd12::1]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://metadata.example.com/',
    'https://v6private.example.com/',
    'https://mapped.example.com/',
    'https://rebound.example.com/',
  ])('refuses %s', async (url) => {
    expect(await reason(strict, url)).toBe('address');
  });

  it('refuses http to a public host, and a name that does not resolve', async () => {
    expect(await reason(strict, 'http://hooks.example.com/')).toBe('scheme');
    expect(await reason(strict, 'https://nowhere.example.com/')).toBe('unresolvable');
  });

  it('refuses a name whose resolver does not answer within its bound', async () => {
    const silent = new TargetPolicy('', () => new Promise(() => {}), 50);
    const started = Date.now();
    expect(await reason(silent, 'https://slow.example.com/')).toBe('unresolvable');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('allows what the allow-list names: an address, a CIDR, a host name — http included', async () => {
    const allowing = new TargetPolicy('127.0.0.1, 10.1.0.0/16, metadata.example.com, [::1]', resolve);
    expect(await reason(allowing, 'http://127.0.0.1:8080/hook')).toBe('allowed');
    expect(await reason(allowing, 'https://10.1.200.3/')).toBe('allowed');
    expect(await reason(allowing, 'http://metadata.example.com/')).toBe('allowed');
    expect(await reason(allowing, 'http://[::1]:9/')).toBe('allowed');
    expect(await reason(allowing, 'https://10.2.0.1/')).toBe('address');
    expect(await reason(allowing, 'https://127.0.0.2/')).toBe('address');
    expect(await reason(allowing, 'http://hooks.example.com/')).toBe('scheme');
    expect(() => new TargetPolicy('10.0.0.0/x')).toThrow('not a CIDR');
  });
});
