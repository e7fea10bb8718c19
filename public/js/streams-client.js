// A client for the Named Streams signaling protocol (rtclite streams.py wire format).
// Works in browsers and in Node.js 20+ (pass `WebSocket` in the options where there is no global).
//
// A dropped connection is resumed when the server offers it (docs/PROTOCOL.md, "Resume"): the
// client reconnects with the resume value of its last `created`, keeps its id, and receives what
// was sent to it meanwhile; its peers notice nothing, so the app sees no departure or arrival.
// When a resume is refused it joins afresh with a new id, and says so (`state` events).

/** @typedef {'publish' | 'subscribe'} Mode */

/**
 * @typedef {object} StreamClientOptions
 * @property {boolean} [reconnect=true] Reconnect (resuming when possible) after an unexpected close.
 * @property {number} [minBackoffMs=500] First reconnect delay.
 * @property {number} [maxBackoffMs=15000] Longest reconnect delay (5 s at most while resuming, so
 *   a resume lands within the server's grace period).
 * @property {number} [heartbeatMs=0] Send the server's text `ping` this often; 0 turns it off.
 * @property {number} [heartbeatTimeoutMs] How long after a `ping` the connection may stay silent
 *   (no `pong`, no frame) before it is treated as dead and resumed. Default: `heartbeatMs`, at
 *   most 10 s.
 * @property {number} [connectTimeoutMs=10000] How long an attempt may take to get `created`
 *   before it is given up and retried (a lost network can leave a handshake hanging).
 * @property {number} [requestTimeoutMs=10000] How long `getConfiguration()` waits for an answer.
 * @property {number} [maxQueuedFrames=256] NOTIFYs kept while resuming, sent once resumed.
 * @property {typeof WebSocket} [WebSocket] The WebSocket class, where there is no global one.
 * @property {string | URL} [server] The signaling server a path is resolved against (an http(s)
 *   or ws(s) URL; only its origin counts). Default: the origin of the page.
 * @property {string} [token] An access token for this stream and mode (docs/TOKENS.md), sent as
 *   `?token=` when joining. A resume presents its resume value instead: a token that expired
 *   during the session is not needed again unless the client has to join afresh. The client
 *   keeps the token (and resume values) out of its URL, its events and anything it logs.
 */

/**
 * @typedef {object} IceConfiguration
 * @property {RTCIceServer[]} iceServers
 * @property {number} [ttl] Seconds until minted credentials expire; ask again before then.
 */

/**
 * The connection's state, in `state` events and {@link StreamClient#state}:
 * - `connecting`: joining (the first time, or again where the server offers no resume).
 * - `connected`: `created` arrived. `resumed: true` when the id was kept (nothing to redo).
 * - `resuming`: the socket was lost; reconnecting with the resume value, keeping the id and
 *   every peer relationship. NOTIFYs sent meanwhile are queued.
 * - `fresh-join`: the old id is gone (the resume was refused or expired, or the server offers
 *   none): joining again with a new id; whatever the app set up with peers is stale.
 * - `closed`: for good (the app closed it, a refusal that retrying cannot fix, or a newer
 *   connection of the same member took over).
 * @typedef {'idle' | 'connecting' | 'connected' | 'resuming' | 'fresh-join' | 'closed'} ConnectionState
 */

/**
 * The `detail` of each event, by name (see {@link StreamEventName}).
 * @typedef {object} StreamEvents
 * @property {{ state: ConnectionState, id?: string | null, resumed?: boolean, previousId?: string, reason?: string, code?: number }} state
 * @property {{}} open
 * @property {{ id: string }} created
 * @property {{ id: string }} resumed
 * @property {{ id: string }} subscribed
 * @property {{ id: string }} unsubscribed
 * @property {{ id: string }} published
 * @property {{ id: string }} unpublished
 * @property {{ from: string, data: unknown, message: Record<string, unknown> }} notify
 * @property {{ code: string, reason: string, msgId?: number }} error
 * @property {{ code: number, reason: string, willReconnect: boolean, resuming: boolean }} close
 */

/**
 * Event names and their `detail`:
 * - `state`: `{ state, id, resumed?, previousId?, reason? }`, see {@link ConnectionState}.
 * - `open`: `{}`, a socket is open (before `created`).
 * - `created`: `{ id }`, a new id: the first join, or a fresh join after a lost connection.
 * - `resumed`: `{ id }`, a lost connection was resumed with the same id.
 * - `subscribed` / `unsubscribed`: `{ id }`, to the publisher, a subscriber came or left.
 * - `published` / `unpublished`: `{ id }`, to a subscriber, the publisher came or left.
 * - `notify`: `{ from, data, message }`, a NOTIFY relayed from peer `from`.
 * - `error`: `{ code, reason, msgId }`, the server refused a frame or the connection.
 * - `close`: `{ code, reason, willReconnect, resuming }`, a socket closed (or was given up as
 *   silent); `resuming` when the next attempt resumes.
 * @typedef {'state' | 'open' | 'created' | 'resumed' | 'subscribed' | 'unsubscribed' | 'published' | 'unpublished' | 'notify' | 'error' | 'close'} StreamEventName
 */

/** Server refusals that retrying cannot fix (bad path, tokens, origin...): see docs/PROTOCOL.md. */
/** @param {number} code a WebSocket close code */
export function isPermanentRefusal(code) {
  return code >= 4002 && code <= 4019;
}

/** Close codes of the resume protocol (docs/PROTOCOL.md). */
export const CLOSE = Object.freeze({
  /** The resume value was forged, replayed, or for another stream, mode or member. */
  RESUME_INVALID: 4030,
  /** The member's grace period ended before it came back. */
  RESUME_EXPIRED: 4031,
  /** A newer connection of the same member took over this one: never reconnect from it. */
  REPLACED: 4032,
  /** The server saw no heartbeat for too long; resumable. */
  HEARTBEAT_TIMEOUT: 4033,
});

/** The close code this client uses when it gives up on a silent or stuck connection. */
export const HEARTBEAT_TIMEOUT_CLOSE = 4900;

const RESUME_REFUSALS = new Set(['resume-expired', 'resume-invalid']);
/** @param {number} code */
const isTokenRefusal = (code) => code >= 4010 && code <= 4015;

/** One connection to a named stream, as publisher or subscriber. Emits {@link StreamEventName}s. */
export class StreamClient extends EventTarget {
  // Secrets are private fields, so printing the client (or its options) never shows them.
  /** @type {string | null} */
  #token;
  /** @type {string | null} the single-use value from the last `created`, if the server offers resume */
  #resume = null;
  /** @type {WebSocket | null} the socket whose events count; a given-up socket is not it */
  #live = null;
  /** Whether the live socket presented a resume value. */
  #resuming = false;
  /** @type {{ code: string, reason: string } | null} an error frame just before the close */
  #lastError = null;
  /** @type {object[]} NOTIFYs sent while resuming */
  #outbox = [];
  /** @type {ReturnType<typeof setInterval> | undefined} */
  #pingTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #silenceTimer;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  #connectTimer;

  /**
   * @param {string | URL} url the stream: a path (`/streams/demo`, on `options.server` or else
   *   the page's own origin) or a full `ws(s)://host/<stream path>` URL; without `mode` (it is added)
   * @param {Mode} mode
   * @param {StreamClientOptions} [options]
   */
  constructor(url, mode, options = {}) {
    super();
    if (mode !== 'publish' && mode !== 'subscribe') throw new TypeError(`mode must be publish or subscribe, not ${mode}`);
    this.url = connectionUrl(url, options.server);
    this.url.searchParams.set('mode', mode);
    this.mode = mode;
    const { token, ...rest } = options;
    if (token !== undefined && typeof token !== 'string') throw new TypeError('token must be a string');
    this.#token = token || null;
    this.options = {
      reconnect: true,
      minBackoffMs: 500,
      maxBackoffMs: 15_000,
      heartbeatMs: 0,
      connectTimeoutMs: 10_000,
      requestTimeoutMs: 10_000,
      maxQueuedFrames: 256,
      ...rest,
    };
    /** @type {string | null} this member's id, once `created` arrived; kept while resuming */
    this.id = null;
    /** @type {ConnectionState} */
    this.state = 'idle';
    /** @type {WebSocket | null} the latest socket */
    this.ws = null;
    this.closedByUser = false;
    this.attempt = 0;
    this.nextMsgId = 1;
    /** @type {Map<number, { resolve: (configuration: IceConfiguration) => void, reject: (error: Error) => void, timer: ReturnType<typeof setTimeout> }>} */
    this.pending = new Map();
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.reconnectTimer = null;
  }

  /** Opens the connection (and keeps it open, if `reconnect` is on). */
  connect() {
    this.closedByUser = false;
    clearTimeout(this.reconnectTimer ?? undefined);
    if (this.state === 'idle' || this.state === 'closed') this.setState('connecting', { id: null });
    const resume = this.id !== null ? this.#resume : null;
    const resuming = resume !== null;
    const url = new URL(this.url);
    // A resume stands on its own resume value; a fresh join needs the token.
    if (resume !== null) url.searchParams.set('resume', resume);
    else if (this.#token) url.searchParams.set('token', this.#token);
    const WS = this.options.WebSocket ?? globalThis.WebSocket;
    const ws = new WS(url.toString());
    this.ws = ws;
    this.#live = ws;
    this.#resuming = resuming;
    this.#lastError = null;
    ws.addEventListener('open', () => {
      if (ws !== this.#live) return;
      this.emit('open', {});
      this.startHeartbeat(ws);
    });
    ws.addEventListener('message', (e) => {
      if (ws === this.#live) this.onMessage(e.data);
    });
    ws.addEventListener('close', (e) => this.onClose(ws, e.code, e.reason));
    // A close always follows an error; listening keeps EventEmitter-based sockets (npm `ws`)
    // from throwing it.
    ws.addEventListener('error', () => {});
    clearTimeout(this.#connectTimer);
    this.#connectTimer = setTimeout(() => this.giveUp(ws, 'connect timeout'), this.options.connectTimeoutMs);
    return this;
  }

  /**
   * Sends `data` to peer `to`; it arrives there as a `notify` event with this client's id as `from`.
   * While resuming it is queued and sent once resumed (dropped if the client joins afresh).
   * @param {string} to
   * @param {unknown} data
   * @returns {boolean} false when it was dropped (not connected, and not resuming)
   */
  notify(to, data) {
    const frame = { method: 'NOTIFY', to, data };
    if (this.send(frame)) return true;
    if (this.state !== 'resuming' || this.#outbox.length >= this.options.maxQueuedFrames) return false;
    this.#outbox.push(frame);
    return true;
  }

  /**
   * Asks the server for the ICE configuration (`GET /peerconnection`).
   * @returns {Promise<IceConfiguration>}
   */
  getConfiguration() {
    const msgId = this.nextMsgId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        reject(new Error('no answer to GET /peerconnection'));
      }, this.options.requestTimeoutMs);
      this.pending.set(msgId, { resolve, reject, timer });
      if (!this.send({ method: 'GET', resource: '/peerconnection', msg_id: msgId })) {
        clearTimeout(timer);
        this.pending.delete(msgId);
        reject(new Error('not connected'));
      }
    });
  }

  /** Closes for good: no reconnect. */
  close(code = 1000, reason = '') {
    this.closedByUser = true;
    clearTimeout(this.reconnectTimer ?? undefined);
    clearTimeout(this.#connectTimer);
    this.stopHeartbeat();
    this.#outbox = [];
    const ws = this.#live;
    if (ws) {
      ws.close(code, reason);
    } else if (this.state !== 'closed') {
      // Between attempts there is no socket to close: the end is now.
      this.setState('closed', { code, reason });
    }
  }

  /**
   * Calls `listener` with the `detail` of every `type` event.
   * @template {StreamEventName} K
   * @param {K} type
   * @param {(detail: StreamEvents[K]) => void} listener
   * @returns {this}
   */
  on(type, listener) {
    this.addEventListener(type, (e) => listener(/** @type {CustomEvent<StreamEvents[K]>} */ (e).detail));
    return this;
  }

  /**
   * @private
   * @param {object} frame
   * @returns {boolean} whether it was sent
   */
  send(frame) {
    if (this.state !== 'connected' || this.#live?.readyState !== 1) return false;
    this.#live.send(JSON.stringify(frame));
    return true;
  }

  /**
   * @private
   * @param {string} type
   * @param {object} detail
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * @private
   * @param {ConnectionState} state
   * @param {object} detail
   */
  setState(state, detail) {
    this.state = state;
    this.emit('state', { state, ...detail });
  }

  /**
   * @private
   * @param {unknown} text
   */
  onMessage(text) {
    this.heard();
    if (text === 'pong' || typeof text !== 'string') return;
    /** @type {any} */
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame?.method === 'EVENT') {
      const { type, id } = frame.data ?? {};
      if (type === 'created') this.onCreated(frame.data);
      else this.emit(type, { id });
    } else if (frame?.method === 'NOTIFY') {
      this.emit('notify', { from: frame.from, data: frame.data, message: frame });
    } else if (frame?.msg_id !== undefined && this.pending.has(frame.msg_id)) {
      const request = this.pending.get(frame.msg_id);
      this.pending.delete(frame.msg_id);
      if (!request) return;
      const { resolve, reject, timer } = request;
      clearTimeout(timer);
      const configuration = frame.result?.configuration;
      if (frame.code === 'success' && Array.isArray(configuration?.iceServers)) resolve({ ...configuration, ttl: frame.result.ttl });
      else reject(Object.assign(new Error(frame.reason), { code: frame.reason?.split(':')[0] }));
    } else if (frame?.code === 'failed') {
      const code = String(frame.reason).split(':')[0];
      this.#lastError = { code, reason: String(frame.reason) };
      // A refused resume is the client's own business: it joins afresh and says so in `state`.
      if (!RESUME_REFUSALS.has(code)) this.emit('error', { code, reason: frame.reason, msgId: frame.msg_id });
    }
  }

  /**
   * @private
   * @param {{ id: string, resumed?: unknown, resume?: unknown }} created
   */
  onCreated({ id, resumed, resume }) {
    clearTimeout(this.#connectTimer);
    this.#resume = typeof resume === 'string' && resume ? resume : null;
    this.attempt = 0;
    if (resumed === true && this.#resuming && id === this.id) {
      this.state = 'connected'; // before the flush: `send` needs it
      const queued = this.#outbox;
      this.#outbox = [];
      for (const frame of queued) this.send(frame);
      this.setState('connected', { id, resumed: true });
      this.emit('resumed', { id });
      return;
    }
    this.#outbox = [];
    if (this.id !== null && this.state === 'resuming') {
      // Asked to resume, given a new id: the old one is gone all the same.
      this.setState('fresh-join', { previousId: this.id, reason: 'not resumed' });
    }
    this.id = id;
    this.setState('connected', { id, resumed: false });
    this.emit('created', { id });
  }

  /**
   * @private
   * @param {WebSocket} ws
   * @param {number} code
   * @param {string} reason
   */
  onClose(ws, code, reason) {
    if (ws !== this.#live) return;
    this.#live = null;
    clearTimeout(this.#connectTimer);
    this.stopHeartbeat();
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error('connection closed'));
    }
    this.pending.clear();
    const refused = this.#lastError;
    this.#lastError = null;
    const wasResuming = this.#resuming;
    const resumeRefused =
      code === CLOSE.RESUME_INVALID || code === CLOSE.RESUME_EXPIRED || (wasResuming && RESUME_REFUSALS.has(refused?.code ?? ''));
    // A resume refused for want of a token: the server wants a fresh join after all.
    const resumeNeedsJoin = wasResuming && isTokenRefusal(code);
    if (resumeRefused || resumeNeedsJoin) this.#resume = null;
    const willReconnect =
      this.options.reconnect &&
      !this.closedByUser &&
      code !== CLOSE.REPLACED &&
      (resumeRefused || resumeNeedsJoin || !isPermanentRefusal(code));
    const resuming = willReconnect && this.#resume !== null && this.id !== null;
    this.emit('close', { code, reason, willReconnect, resuming });
    if (!willReconnect) {
      this.#outbox = [];
      this.setState('closed', { id: this.id, code, reason });
      return;
    }
    let delay = this.backoff();
    if (resuming) {
      if (this.state !== 'resuming') this.setState('resuming', { id: this.id });
    } else if (this.id !== null) {
      // The old id is gone: everything built on it is stale. Join again at once.
      const previousId = this.id;
      this.id = null;
      this.#outbox = [];
      this.setState('fresh-join', { previousId, reason: refused?.reason ?? reason });
      if (resumeRefused || resumeNeedsJoin) delay = 0;
    } else if (this.state !== 'connecting') {
      this.setState('connecting', { id: null });
    }
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /**
   * The next reconnect delay: exponential with full jitter, so the clients of a restarted
   * server do not come back in lockstep; capped lower while resuming (the grace period runs).
   * @private
   */
  backoff() {
    const cap = this.#resume !== null ? Math.min(this.options.maxBackoffMs, 5000) : this.options.maxBackoffMs;
    const ceiling = Math.min(cap, this.options.minBackoffMs * 2 ** this.attempt);
    this.attempt += 1;
    return this.options.minBackoffMs / 2 + Math.random() * ceiling;
  }

  /**
   * @private
   * @param {WebSocket} ws
   */
  startHeartbeat(ws) {
    this.stopHeartbeat();
    const every = this.options.heartbeatMs;
    if (!every) return;
    const silence = this.options.heartbeatTimeoutMs ?? Math.min(every, 10_000);
    this.#pingTimer = setInterval(() => {
      if (ws.readyState !== 1) return;
      ws.send('ping');
      // The server answers `ping` without waking the stream; silence after it means a dead path.
      this.#silenceTimer ??= setTimeout(() => this.giveUp(ws, 'heartbeat timeout'), silence);
    }, every);
  }

  /** Anything from the server proves the path alive. @private */
  heard() {
    clearTimeout(this.#silenceTimer);
    this.#silenceTimer = undefined;
  }

  /**
   * Treats a silent or stuck socket as closed now: a dead TCP path can take minutes to report
   * its close, and the resume should not wait for it. Its late events are ignored.
   * @private
   * @param {WebSocket} ws
   * @param {string} reason
   */
  giveUp(ws, reason) {
    if (ws !== this.#live) return;
    this.onClose(ws, HEARTBEAT_TIMEOUT_CLOSE, reason);
    try {
      ws.close(HEARTBEAT_TIMEOUT_CLOSE, reason);
    } catch {
      // Already closing.
    }
  }

  /** @private */
  stopHeartbeat() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = undefined;
    this.heard();
  }
}

/**
 * The URL a client connects to. A full URL is the application's explicit choice and is kept
 * (http(s) becomes ws(s)); anything else is a path, checked by {@link normalizePath} and put on
 * `server`, so text from a page's query string can never name another host.
 * @param {string | URL} target
 * @param {string | URL} [server]
 * @returns {URL}
 */
function connectionUrl(target, server) {
  if (target instanceof URL || SCHEME.test(String(target).trim())) {
    const url = new URL(String(target).trim());
    if (!/^(https?|wss?):$/.test(url.protocol)) throw new TypeError(`a stream URL must be ws(s) or http(s), not ${url.protocol}`);
    url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
    return url;
  }
  const base = server ?? globalThis.location;
  if (!base) throw new TypeError('a stream path needs the `server` option where there is no page origin');
  return streamUrl(String(target), base);
}

/**
 * Opens a stream connection.
 * @param {string | URL} url a stream path on this origin (or `options.server`), or a full
 *   `ws(s)://host/<stream path>` URL
 * @param {Mode} mode
 * @param {StreamClientOptions} [options]
 */
export function connect(url, mode, options) {
  return new StreamClient(url, mode, options).connect();
}

/** The longest path any deployment accepts (`MAX_PATH_BYTES` can be raised up to this). */
export const MAX_PATH_BYTES_LIMIT = 2048;

/**
 * First path segments that are never streams: the server's HTTP API and the page's asset
 * folders (core/src/path.rs `RESERVED_SEGMENTS`; the shared fixture checks both lists agree).
 */
export const RESERVED_SEGMENTS = Object.freeze(['api', 'js']);

/** A stream path this client will not connect to, with the server's code for the same refusal. */
export class StreamPathError extends Error {
  /**
   * @param {'invalid-path' | 'path-too-long' | 'hash-prefix-variant' | 'not-found'} code
   * @param {string} sentence
   */
  constructor(code, sentence) {
    super(`${code}: ${sentence}`);
    this.name = 'StreamPathError';
    this.code = code;
    this.sentence = sentence;
  }
}

// `scheme:` at the start: a URL (https:, javascript:, data:...), never a stream path.
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// What a browser percent-encodes when it puts text into a URL path; encoding it here keeps the
// path that is checked and the path that is sent byte for byte the same.
const BROWSER_ENCODES = new Set([' ', '"', '#', '<', '>', '?', '^', '`', '{', '}']);
const DOT_SEGMENTS = new Set(['.', '%2e', '..', '.%2e', '%2e.', '%2e%2e']);
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** @param {string} sentence */
const refuse = (sentence) => new StreamPathError('invalid-path', sentence);

/**
 * Turns what a person or a link gives as a stream path (`/streams/demo`, `streams/demo`,
 * `/café`) into the path sent to the server, or throws a {@link StreamPathError}.
 *
 * The rules are the server's (core/src/path.rs), and a little stricter: both sides are checked
 * against the cases in tests/fixtures/stream-paths.json. A path is `/` and visible ASCII; its
 * `%XX` escapes decode to UTF-8 text without control characters; no segment is `.` or `..`
 * (however spelled). Stricter, because URL parsers read them as another host: no `//` and no
 * `\`. Conveniences: surrounding spaces are dropped, a missing leading `/` is added, and spaces
 * and non-ASCII text are percent-encoded. Anything with a URL scheme is refused, so no input can
 * name another host.
 * @param {unknown} input
 * @param {{ maxBytes?: number }} [options] the deployment's `MAX_PATH_BYTES`, when known
 * @returns {string}
 */
export function normalizePath(input, { maxBytes = MAX_PATH_BYTES_LIMIT } = {}) {
  if (typeof input !== 'string') throw refuse('A stream path must be text.');
  const text = input.trim();
  if (SCHEME.test(text)) throw refuse('A stream path starts with "/"; links to other sites are not followed.');
  let path = '';
  for (const ch of text.startsWith('/') ? text : `/${text}`) {
    if (CONTROL.test(ch)) throw refuse('A stream path cannot contain control characters.');
    if (ch === '\\') throw refuse('A stream path cannot contain "\\".');
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x7e || BROWSER_ENCODES.has(ch)) {
      try {
        path += encodeURIComponent(ch);
      } catch {
        throw refuse('A stream path must be valid Unicode text.');
      }
    } else {
      path += ch;
    }
  }
  checkPath(path, maxBytes);
  return path;
}

/**
 * Checks a path in the form sent on the wire (percent-encoded ASCII); throws a
 * {@link StreamPathError} naming the first broken rule, in the server's order.
 * @param {string} path
 * @param {number} maxBytes
 */
function checkPath(path, maxBytes) {
  const first = firstSegment(path);
  if (first !== null && RESERVED_SEGMENTS.includes(first)) {
    throw new StreamPathError('not-found', `Paths under /${first}/ belong to the server, not to streams.`);
  }
  if (path.length > maxBytes) throw new StreamPathError('path-too-long', `A stream path is at most ${maxBytes} bytes.`);
  if (path.length < 2 || !path.startsWith('/')) throw refuse('A stream path is "/" followed by a name.');
  if (!/^[\x21-\x7e]+$/.test(path)) throw refuse('A stream path cannot contain spaces or control characters.');
  if (path.split('/').some((segment) => DOT_SEGMENTS.has(segment.toLowerCase()))) {
    throw refuse('A stream path cannot have "." or ".." segments.');
  }
  const decoded = percentDecode(path);
  if (decoded === null) throw refuse('A "%" in a stream path must start an escape of UTF-8 text, like %C3%A9.');
  if (CONTROL.test(decoded)) throw refuse('A stream path cannot contain control characters.');
  // Checked after decoding, so `%5C` and `%2F%2F` are refused like the characters they spell.
  if (decoded.includes('\\')) throw refuse('A stream path cannot contain "\\".');
  if (decoded.includes('//')) throw refuse('A stream path cannot contain "//".');
  // It would look like a hash path to people and be a plain one to the server.
  const raw = path.slice(1).split('/')[0];
  if ((first === 'sha1' || first === 'sha256') && raw !== first) {
    throw new StreamPathError('hash-prefix-variant', `A hash path starts with /${first}/ spelled exactly so.`);
  }
}

/**
 * The first segment of a path, percent-decoded, ASCII letters in lower case; null if undecodable.
 * @param {string} path
 */
function firstSegment(path) {
  const decoded = percentDecode(path.slice(1).split('/')[0]);
  return decoded === null ? null : decoded.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * Decodes `%XX` escapes; null when one is malformed or the bytes are not UTF-8.
 * @param {string} path
 */
function percentDecode(path) {
  const bytes = [];
  for (let i = 0; i < path.length; i++) {
    if (path[i] === '%') {
      const hex = path.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(path.charCodeAt(i));
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return null;
  }
}

/**
 * The WebSocket URL of a stream: `path` (normalized by {@link normalizePath}) on the server at
 * `base`, by default the one that served this page. Whatever `path` holds, the URL stays on
 * `base`'s host.
 * @param {string} path `/<stream path>`
 * @param {Location | URL | string} [base] the signaling server (an http(s) or ws(s) URL)
 * @returns {URL}
 */
export function streamUrl(path, base = globalThis.location) {
  const normalized = normalizePath(path);
  const url = new URL(String(base));
  if (!/^(https?|wss?):$/.test(url.protocol)) throw new TypeError(`the signaling server must be an http(s) or ws(s) URL, not ${url.protocol}`);
  url.protocol = url.protocol === 'https:' || url.protocol === 'wss:' ? 'wss:' : 'ws:';
  // Setting the path on a URL that already has its host cannot change the host, unlike
  // resolving a relative reference (`new URL('//evil/x', base)` goes to evil).
  url.pathname = normalized;
  url.search = '';
  url.hash = '';
  if (url.pathname !== normalized) throw refuse('The stream path would change in the URL.');
  return url;
}

/**
 * The path subscribers use for a hash-protected stream: `/sha256/<hex of "/<name>">`.
 * @param {'sha1' | 'sha256'} algorithm
 * @param {string} name the plain stream name, with or without its leading slash
 */
export async function hashPath(algorithm, name) {
  const plain = name.startsWith('/') ? name : `/${name}`;
  const digest = await crypto.subtle.digest(algorithm === 'sha1' ? 'SHA-1' : 'SHA-256', new TextEncoder().encode(plain));
  const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `/${algorithm}/${hex}`;
}
