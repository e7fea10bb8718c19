// The stream status API (`GET /api/streams/<path>`) for the page: whether a stream is live,
// asked before or beside joining it. It only informs; joining never waits on it.

/**
 * @typedef {{ live: boolean, subscribers: number, since: number | null, mode: string }} StreamStatus
 * @typedef {{ ok: true, status: StreamStatus } | { ok: false, code: string, sentence: string }} StatusAnswer
 */

/**
 * Asks the server about the stream at `path` (a stream path as the page normalized it). A token
 * goes in the `Authorization` header of this request, never into a URL.
 * @param {string} path
 * @param {{ token?: string, fetchImpl?: typeof fetch, server?: string | URL }} [options] `server`:
 *   the service's origin, where this is not the page it served (Node.js, another site listed in
 *   its `ICE_CORS_ORIGINS`)
 * @returns {Promise<StatusAnswer>}
 */
export async function fetchStreamStatus(path, { token, fetchImpl = fetch, server } = {}) {
  let res;
  try {
    // The path goes under /api/streams/ whatever it holds, so it cannot name another host.
    const url = server === undefined ? `/api/streams${path}` : new URL(`/api/streams${path}`, server);
    res = await fetchImpl(url, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
      cache: 'no-store',
    });
  } catch {
    return { ok: false, code: 'unreachable', sentence: 'the server could not be reached' };
  }
  const text = await res.text();
  if (res.ok) {
    try {
      const status = JSON.parse(text);
      if (typeof status?.live === 'boolean' && Number.isInteger(status.subscribers)) return { ok: true, status };
    } catch {
      // Fall through: not the API's answer.
    }
    return { ok: false, code: 'unexpected', sentence: 'the server gave an answer the page does not understand' };
  }
  // Errors are `<code>: <sentence>`.
  const match = /^([a-z-]+): (.*)$/s.exec(text.trim());
  return match ? { ok: false, code: match[1], sentence: match[2] } : { ok: false, code: String(res.status), sentence: text.trim() };
}

/** "3 viewers", "1 viewer", "no viewers". @param {number} n */
const viewers = (n) => (n === 0 ? 'no viewers' : `${n} viewer${n === 1 ? '' : 's'}`);

/**
 * "5 minutes ago", "just now".
 * @param {number} since
 * @param {number} now
 */
function ago(since, now) {
  const minutes = Math.floor(Math.max(0, now - since) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'} ago`;
  return `${Math.floor(minutes / 60)} hours ago`;
}

/**
 * What a person is told about an answer, for the landing page's check.
 * @param {StatusAnswer} answer
 * @param {number} [now] ms since the epoch
 * @returns {string}
 */
export function describeStatus(answer, now = Date.now()) {
  if (answer.ok) {
    const { live, subscribers, since } = answer.status;
    if (live) return `Live now (started ${since === null ? 'a while ago' : ago(since, now)}), with ${viewers(subscribers)}.`;
    return subscribers > 0
      ? `Nobody is publishing here yet; ${viewers(subscribers)} waiting. You can wait with them.`
      : 'Nobody is publishing here yet. You can still open it and wait for the publisher.';
  }
  if (answer.code.startsWith('token-')) return 'This stream needs a valid token: open the full link you were given.';
  if (answer.code === 'invalid-path') return 'That does not name a stream (a private stream is watched by its hash link).';
  if (answer.code === 'connect-rate') return 'Too many checks from here; try again in a minute.';
  return `The stream could not be checked: ${answer.sentence}.`;
}
