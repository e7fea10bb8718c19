// Mints Named Streams access tokens: HS256 JSON Web Tokens whose claims bind a token to one
// stream path, one mode and an expiry (docs/TOKENS.md). Node's own crypto, no dependencies, so
// application servers can copy the idea or import this file.
import { createHmac } from 'node:crypto';

const HEADER = '{"alg":"HS256","typ":"JWT"}';

/**
 * @param {{ secret: string | Buffer, path: string, mode: 'publish' | 'subscribe', exp: number, label?: string }} claims
 *   `exp` is in seconds since the Unix epoch; the token is refused from that second on.
 * @returns {string} the token, for `?token=` or `Authorization: Bearer`
 */
export function mintToken({ secret, path, mode, exp, label }) {
  if (!secret || secret.length === 0) throw new Error('the secret is empty');
  if (typeof path !== 'string' || !path.startsWith('/')) throw new Error('path must start with /');
  if (mode !== 'publish' && mode !== 'subscribe') throw new Error('mode must be publish or subscribe');
  if (!Number.isSafeInteger(exp) || exp < 0) throw new Error('exp must be whole seconds since the epoch');
  // Claim order matters only for reproducing the documented test vector; the server accepts any.
  const claims = label === undefined ? { path, mode, exp } : { path, mode, exp, label };
  const part = (json) => Buffer.from(json).toString('base64url');
  const signed = `${part(HEADER)}.${part(JSON.stringify(claims))}`;
  const signature = createHmac('sha256', secret).update(signed).digest('base64url');
  return `${signed}.${signature}`;
}
