import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** Resolves a host name to every address it has (node:dns by default; tests inject their own). */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

const defaultResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

/** Why a target was refused; `code` becomes the problem's `details.reason`. */
export class TargetRefusedError extends Error {
  constructor(
    readonly reason: 'scheme' | 'address' | 'unresolvable',
    message: string,
  ) {
    super(message);
    this.name = 'TargetRefusedError';
  }
}

/** Addresses a webhook may not reach unless allow-listed: the host itself, its networks, cloud metadata. */
const FORBIDDEN = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata (169.254.169.254)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64 (embeds IPv4)
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
] as const)
  FORBIDDEN.addSubnet(network, prefix, 'ipv6');

/** `::ffff:10.0.0.1` → `10.0.0.1`: a mapped address is judged as the IPv4 address it is. */
function unmapped(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1], type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/**
 * Where webhooks may point (SSRF). `https` only, and never an address on the host, its private
 * networks or link-local ones — unless `WEBHOOK_ALLOWED_TARGETS` names the host or a CIDR holding
 * the address (then `http` is allowed too). Checked at registration and again at every delivery,
 * where the connection goes to the very address that was checked (`lookup`), so a DNS answer that
 * changes in between cannot redirect it.
 */
export class TargetPolicy {
  private readonly allowedHosts = new Set<string>();
  private readonly allowedNetworks = new BlockList();

  /** `allowList`: comma-separated host names, addresses or CIDRs (`127.0.0.1,10.1.0.0/16,hooks.internal`). */
  constructor(
    allowList = '',
    private readonly resolve: Resolve = defaultResolve,
    /** Longest wait for a DNS answer (the resolver's own retries can take much longer). */
    private readonly resolveTimeoutMs = 5000,
  ) {
    for (const raw of allowList.split(',').map((entry) => entry.trim().toLowerCase())) {
      if (!raw) continue;
      const [network, prefix] = raw.split('/');
      const bare = network.replace(/^\[|\]$/g, '');
      const { address, type } = unmapped(bare);
      if (isIP(bare)) {
        const bits = prefix === undefined ? (type === 'ipv4' ? 32 : 128) : Number(prefix);
        if (!Number.isInteger(bits)) throw new Error(`WEBHOOK_ALLOWED_TARGETS: not a CIDR: ${raw}`);
        this.allowedNetworks.addSubnet(address, bits, type);
      } else {
        if (prefix !== undefined) throw new Error(`WEBHOOK_ALLOWED_TARGETS: not a CIDR: ${raw}`);
        this.allowedHosts.add(bare);
      }
    }
  }

  /**
   * Checks a URL and resolves its host: the addresses it may connect to (all of them pass), or a
   * TargetRefusedError. Throws for a URL that does not parse (the decider refuses those first).
   */
  async vet(rawUrl: string): Promise<{ url: URL; addresses: { address: string; family: number }[] }> {
    const url = new URL(rawUrl);
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const hostAllowed = this.allowedHosts.has(host);
    const literal = isIP(host);
    let addresses: { address: string; family: number }[];
    if (literal) addresses = [{ address: host, family: literal }];
    else {
      let timer: NodeJS.Timeout | undefined;
      try {
        // A resolver that does not answer must not hold a registration (or a delivery) forever.
        addresses = await Promise.race([
          this.resolve(host),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no DNS answer within ${this.resolveTimeoutMs} ms`)),
              this.resolveTimeoutMs,
            );
          }),
        ]);
      } catch (error) {
        throw new TargetRefusedError(
          'unresolvable',
          `${host} does not resolve (${error instanceof Error ? error.message : String(error)})`,
        );
      } finally {
        clearTimeout(timer);
      }
      if (addresses.length === 0) throw new TargetRefusedError('unresolvable', `${host} resolves to no address`);
    }
    const allowed = (address: string) => {
      const { address: plain, type } = unmapped(address);
      return hostAllowed || this.allowedNetworks.check(plain, type);
    };
    const refused = addresses.filter(({ address }) => {
      const { address: plain, type } = unmapped(address);
      return FORBIDDEN.check(plain, type) && !allowed(address);
    });
    if (refused.length)
      throw new TargetRefusedError(
        'address',
        `${host} is (or resolves to) ${refused.map((a) => a.address).join(', ')}: a loopback, private, link-local or reserved address; name it in WEBHOOK_ALLOWED_TARGETS to allow it`,
      );
    if (url.protocol !== 'https:' && !addresses.every(({ address }) => allowed(address)))
      throw new TargetRefusedError(
        'scheme',
        `webhooks go to https URLs only (${url.protocol} is allowed for WEBHOOK_ALLOWED_TARGETS only)`,
      );
    return { url, addresses };
  }
}
