/** What replaces a secret in a logged or echoed URL. Plain letters, so the URL stays a valid URI. */
const REDACTED = 'REDACTED';

/** Query parameters that carry credentials by name (RFC 6750 §2.3 `access_token` and the usual others). */
const SECRET_PARAMETER =
  /^(access_token|id_token|refresh_token|token|jwt|bearer|authorization|auth|api_key|apikey|key|secret|password|client_secret|code)$/i;

/** A JWS/JWT compact serialisation: a base64url JSON header (`eyJ`) and two more segments. */
const JWT_LIKE = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;

/**
 * The URL with every credential replaced by REDACTED: the value of any query parameter named like
 * one (`access_token`, `token`, `api_key`, …) and anything shaped like a JWT anywhere (path or query,
 * percent-encoded or not). Used for the request log line and the problem `instance`, which would
 * otherwise write a bearer token sent in the URL to the log and echo it back.
 *
 * @example redactUrl('/deals/1?access_token=eyJh.eyJz.sig&limit=5') // '/deals/1?access_token=REDACTED&limit=5'
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf('?');
  const path = mark < 0 ? url : url.slice(0, mark);
  const redactedPath = redactJwtLike(path);
  if (mark < 0) return redactedPath;
  const query = url
    .slice(mark + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      if (equals >= 0 && SECRET_PARAMETER.test(decoded(name))) return `${name}=${REDACTED}`;
      const value = equals < 0 ? '' : pair.slice(equals + 1);
      const redactedName = redactJwtLike(name);
      if (equals < 0) return redactedName;
      return `${redactedName}=${new RegExp(JWT_LIKE.source).test(decoded(value)) ? REDACTED : value}`;
    })
    .join('&');
  return `${redactedPath}?${query}`;
}

function redactJwtLike(text: string): string {
  const plain = decoded(text);
  return new RegExp(JWT_LIKE.source).test(plain)
    ? plain === text
      ? text.replace(JWT_LIKE, REDACTED)
      : REDACTED
    : text;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
