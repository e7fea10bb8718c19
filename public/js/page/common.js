// What every view of the page shares: the status line, the problem view, the link's options and
// the connection's state as people see it. UI only: the protocol lives in ../streams-client.js.
import { CLOSE, isPermanentRefusal, normalizePath, StreamPathError } from '../streams-client.js';
import { MESSAGE_CODES, refusalMessage, sentenceOf } from './messages.js';

/**
 * The element with this id. The page's markup is fixed (index.html), so a missing id is a bug
 * in the page, reported at once.
 * @param {string} id
 * @returns {HTMLElement}
 */
export function $(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element;
}

export const params = new URLSearchParams(location.search);

/**
 * State the end-to-end tests read; handy in the console too.
 * @type {{ status: string, client: import('../streams-client.js').StreamClient | null, mesh: import('../peer.js').Mesh | null }}
 */
export const debug = { status: 'idle', client: null, mesh: null };
/** @type {any} */ (window).namedStreams = debug;

/** @param {string} view */
export function setView(view) {
  document.body.dataset.view = view;
}

let statusText = '';
/** Whether signaling is down while the session (and its media) carries on. */
let signalingResuming = false;

/**
 * @param {string} status a word for tests and styles (`body[data-status]`)
 * @param {string} text what people read
 */
export function setStatus(status, text) {
  debug.status = status;
  document.body.dataset.status = status;
  statusText = text;
  $('status').textContent = signalingResuming ? `${text} · reconnecting to the server…` : text;
}

/** Where anything that goes wrong in the background ends: logged, never thrown away. */
export function report(/** @type {unknown} */ err) {
  console.warn('named streams:', err);
}

/**
 * What the page's link gives for this stream's connections: `token` goes to the stream's
 * WebSocket and nowhere else (no other request, no displayed link). Empty means none.
 * @returns {import('../streams-client.js').StreamClientOptions}
 */
export function clientOptions() {
  // `&heartbeat=<seconds>` (1 to 60) finds a silent connection sooner; tests use it.
  const heartbeat = Number(params.get('heartbeat'));
  const heartbeatMs = heartbeat >= 1 && heartbeat <= 60 ? heartbeat * 1000 : 25_000;
  return { heartbeatMs, token: params.get('token') || undefined };
}

/**
 * Test and power-user overrides: `?ice=none` uses no ICE servers, `?relay=1` forces TURN.
 * @returns {Partial<RTCConfiguration>}
 */
export function configurationOverrides() {
  /** @type {Partial<RTCConfiguration>} */
  const conf = {};
  if (params.get('ice') === 'none') conf.iceServers = [];
  if (params.get('relay') === '1') conf.iceTransportPolicy = 'relay';
  return conf;
}

/**
 * Shows why the page cannot go on, in place of any stream view.
 * @param {string} title
 * @param {string} text
 * @param {string} advice
 */
export function showProblem(title, text, advice) {
  setView('problem');
  $('problem-title').textContent = title;
  $('problem-text').textContent = text;
  $('problem-advice').textContent = advice;
}

/**
 * The stream named by `?publish=` or `?subscribe=`, normalized by the rules the server applies;
 * null, after saying why, when it is not a stream path. Nothing connects before this check, so
 * a link cannot send the page (or its camera's offer) to another host.
 * @param {string} name
 * @returns {string | null}
 */
export function streamPathParam(name) {
  try {
    return normalizePath(params.get(name));
  } catch (err) {
    if (!(err instanceof StreamPathError)) throw err;
    document.body.dataset.refusal = err.code;
    setStatus('refused', 'Not a stream link');
    showProblem('This link does not name a stream', err.sentence, 'Check the link you were given, or ask for a new one.');
    return null;
  }
}

/**
 * @typedef {object} WatchOptions
 * @property {() => void} [onRefused] runs once when the server refused the page for good
 * @property {() => void} [onFreshJoin] runs when the old id is gone
 * @property {(code: string, title: string) => void} [onRetrying] a refusal the client retries
 *   (a second publisher, a full stream): the view may show it
 */

/**
 * Keeps the status line true to the connection, and turns a refusal the page cannot retry into
 * a message saying why and what to do. `onRefused` runs once then (e.g. to stop the camera).
 * While the client resumes, the session's status stays (media does not go through the server)
 * and the line says signaling is reconnecting; `onFreshJoin` resets the view when the old id is
 * gone. `body[data-signaling]` is the client's state, for tests.
 * @param {import('../streams-client.js').StreamClient} client
 * @param {'publish' | 'subscribe'} mode
 * @param {WatchOptions} [options]
 */
export function watchConnection(client, mode, { onRefused = () => {}, onFreshJoin = () => {}, onRetrying = () => {} } = {}) {
  /** @type {{ code: string, reason: string } | null} the error frame just before a close: the refusal's reason */
  let refusal = null;
  client.on('created', () => {
    refusal = null;
    delete document.body.dataset.refusal;
  });
  client.on('state', ({ state }) => {
    document.body.dataset.signaling = state;
    const resuming = state === 'resuming';
    if (resuming !== signalingResuming) {
      signalingResuming = resuming;
      setStatus(debug.status, statusText);
    }
    if (state === 'fresh-join') onFreshJoin();
  });
  // An error frame is shown only if a close follows (a refusal); errors about single frames
  // (a rate limit, say) and the notice before a resumable close leave the session as it is.
  client.on('error', (error) => {
    refusal = error;
  });
  client.on('close', ({ code, reason, willReconnect, resuming }) => {
    const why = refusal ?? (reason ? { code: reason, reason } : null);
    refusal = null;
    if (!willReconnect && isPermanentRefusal(code)) {
      const message = refusalMessage(why?.code, mode);
      document.body.dataset.refusal = why?.code ?? String(code);
      setStatus('refused', message.title);
      showProblem(message.title, sentenceOf(why?.reason), message.advice);
      onRefused();
    } else if (willReconnect && !resuming) {
      if (why && MESSAGE_CODES.includes(why.code)) {
        // A refusal the client retries (a second publisher, a full stream): say what it is.
        const message = refusalMessage(why.code, mode);
        document.body.dataset.refusal = why.code;
        setStatus('reconnecting', `${message.title}. ${message.advice}`);
        onRetrying(why.code, message.title);
      } else {
        // The client's own reasons (`connect timeout`, `heartbeat timeout`) or none.
        setStatus('reconnecting', why ? `${sentenceOf(why.reason)} Trying again…` : 'Reconnecting…');
      }
    } else if (code === CLOSE.REPLACED) {
      const message = refusalMessage('replaced', mode);
      setStatus('error', `${message.title}. ${message.advice}`);
    } else if (!willReconnect) {
      setStatus('error', reason ? `Disconnected: ${sentenceOf(reason)}` : 'Disconnected.');
    }
  });
}
