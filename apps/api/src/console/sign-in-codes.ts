import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mintToken } from '@dealstream/auth';

/** Who the printed sign-in URL signs in as: the embedded default is one person trying dealstream out. */
export const SIGN_IN_SUBJECT = 'console-admin';
/** How long the printed URL and the token it gives stay good (capped by AUTH_MAX_TOKEN_LIFETIME). */
const SIGN_IN_LIFETIME_SECONDS = 12 * 3600;

/** What a redeemed code gives: an admin token for the console, and when it expires. */
export interface ConsoleSession {
  readonly token: string;
  readonly subject: string;
  readonly roles: readonly string[];
  readonly expiresAt: Date;
}

export interface SignInCodesOptions {
  /** The HS256 secret tokens are signed with — only on the embedded default with a generated secret; otherwise no code is ever offered. */
  readonly secret?: Uint8Array;
  readonly maxLifetimeSeconds: number;
  readonly issuer?: string;
  readonly audience?: string;
  readonly now?: () => Date;
}

/**
 * The one-time sign-in URL `npm start` prints on the embedded default: `http://localhost:3000/#sign-in=<code>`.
 * The code sits in the URL fragment, which browsers never send, so it reaches no request log; the
 * console posts it to `POST /console/sign-in` and gets an admin token for its tab. The code is
 * good once: redeemed, expired (12 h) or replaced by a restart, it signs nobody in, so a URL left
 * in a terminal's scrollback or a shell history is worth nothing after first use. Only its SHA-256
 * is kept, in this process's memory.
 */
export class SignInCodes {
  private active: { readonly hash: Buffer; readonly expiresAt: Date } | undefined;

  constructor(private readonly options: SignInCodesOptions) {}

  /** Whether this instance can sign anyone in (the embedded default, with its generated secret). */
  get offered(): boolean {
    return this.options.secret !== undefined;
  }

  /** A new code (the previous one stops working) and the URL to print; undefined when not offered. */
  issue(port: number): string | undefined {
    if (!this.offered) return undefined;
    const code = randomBytes(32).toString('base64url');
    this.active = {
      hash: digest(code),
      expiresAt: new Date(this.now().getTime() + this.lifetimeSeconds() * 1000),
    };
    return `http://localhost:${port}/#sign-in=${code}`;
  }

  /** The session for a good code, once; undefined for a wrong, used or expired one. */
  async redeem(code: string): Promise<ConsoleSession | undefined> {
    const active = this.active;
    if (!active || !this.options.secret || active.expiresAt <= this.now()) return undefined;
    if (!timingSafeEqual(digest(code), active.hash)) return undefined;
    this.active = undefined; // used up before the token exists: a second redeem racing this one gets nothing
    const lifetimeSeconds = Math.max(1, Math.floor((active.expiresAt.getTime() - this.now().getTime()) / 1000));
    const token = await mintToken({
      subject: SIGN_IN_SUBJECT,
      roles: ['admin'],
      secret: new TextDecoder().decode(this.options.secret),
      expiresIn: `${lifetimeSeconds}s`,
      ...(this.options.issuer ? { issuer: this.options.issuer } : {}),
      ...(this.options.audience ? { audience: this.options.audience } : {}),
    });
    return {
      token,
      subject: SIGN_IN_SUBJECT,
      roles: ['admin'],
      expiresAt: new Date(this.now().getTime() + lifetimeSeconds * 1000),
    };
  }

  private lifetimeSeconds(): number {
    return Math.min(SIGN_IN_LIFETIME_SECONDS, this.options.maxLifetimeSeconds);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }
}

function digest(code: string): Buffer {
  return createHash('sha256').update(code, 'utf8').digest();
}
