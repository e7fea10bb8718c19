// A client for the Named Streams signaling protocol (rtclite streams.py wire format).
// Works in browsers and in Node.js 20+ (pass `WebSocket` in the options where there is no global).

/** @typedef {'publish' | 'subscribe'} Mode */

/**
 * @typedef {object} StreamClientOptions
 * @property {boolean} [reconnect=true] Reconnect with exponential backoff after an unexpected close.
 * @property {number} [minBackoffMs=500] First reconnect delay.
 * @property {number} [maxBackoffMs=15000] Longest reconnect delay.
 * @property {number} [heartbeatMs=0] Send the server's text `ping` this often and expect `pong`;
 *   a connection that misses two answers in a row is treated as dead. 0 turns it off.
 * @property {number} [requestTimeoutMs=10000] How long `getConfiguration()` waits for an answer.
 * @property {typeof WebSocket} [WebSocket] The WebSocket class, where there is no global one.
 */

/**
 * @typedef {object} IceConfiguration
 * @property {RTCIceServer[]} iceServers
 * @property {number} [ttl] Seconds until minted credentials expire; ask again before then.
 */

/**
 * Event names and their `detail`:
 * - `open`: `{}`, the socket is open (before `created`).
 * - `created`: `{ id }`, this connection's id. After a reconnect it is a new id.
 * - `subscribed` / `unsubscribed`: `{ id }`, to the publisher, a subscriber came or left.
 * - `published` / `unpublished`: `{ id }`, to a subscriber, the publisher came or left.
 * - `notify`: `{ from, data, message }`, a NOTIFY relayed from peer `from`.
 * - `error`: `{ code, reason, msgId }`, the server refused a frame or the connection.
 * - `close`: `{ code, reason, willReconnect }`, the socket closed.
 * @typedef {'open' | 'created' | 'subscribed' | 'unsubscribed' | 'published' | 'unpublished' | 'notify' | 'error' | 'close'} StreamEventName
 */

/** Server refusals that retrying cannot fix (bad path, tokens, origin...): see docs/PROTOCOL.md. */
export function isPermanentRefusal(code) {
  return code >= 4002 && code <= 4019;
}

/** The close code this client uses when it gives up on a silent connection. */
export const HEARTBEAT_TIMEOUT_CLOSE = 4900;

/** One connection to a named stream, as publisher or subscriber. Emits {@link StreamEventName}s. */
export class StreamClient extends EventTarget {
  /**
   * @param {string | URL} url `ws(s)://host/<stream path>`, without `mode` (it is added).
   * @param {Mode} mode
   * @param {StreamClientOptions} [options]
   */
  constructor(url, mode, options = {}) {
    super();
    if (mode !== 'publish' && mode !== 'subscribe') throw new TypeError(`mode must be publish or subscribe, not ${mode}`);
    this.url = new URL(url);
    this.url.searchParams.set('mode', mode);
    this.mode = mode;
    this.options = { reconnect: true, minBackoffMs: 500, maxBackoffMs: 15_000, heartbeatMs: 0, requestTimeoutMs: 10_000, ...options };
    /** @type {string | null} this connection's id, once `created` arrived */
    this.id = null;
    /** @type {WebSocket | null} */
    this.ws = null;
    this.closedByUser = false;
    this.attempt = 0;
    this.nextMsgId = 1;
    /** @type {Map<number, {resolve: Function, reject: Function, timer: any}>} */
    this.pending = new Map();
    this.reconnectTimer = null;
    this.heartbeatTimer = null;
    this.missedPongs = 0;
  }

  /** Opens the connection (and keeps it open, if `reconnect` is on). */
  connect() {
    this.closedByUser = false;
    const WS = this.options.WebSocket ?? globalThis.WebSocket;
    const ws = new WS(this.url.toString());
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.emit('open', {});
      this.startHeartbeat();
    });
    ws.addEventListener('message', (e) => this.onMessage(e.data));
    ws.addEventListener('close', (e) => this.onClose(ws, e.code, e.reason));
    return this;
  }

  /**
   * Sends `data` to peer `to`; it arrives there as a `notify` event with this client's id as `from`.
   * @param {string} to
   * @param {unknown} data
   * @returns {boolean} false when the socket is not open (the message is dropped)
   */
  notify(to, data) {
    return this.send({ method: 'NOTIFY', to, data });
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
    clearTimeout(this.reconnectTimer);
    this.stopHeartbeat();
    this.ws?.close(code, reason);
  }

  /**
   * @param {StreamEventName} type
   * @param {(detail: any) => void} listener
   */
  on(type, listener) {
    this.addEventListener(type, (e) => listener(/** @type {CustomEvent} */ (e).detail));
    return this;
  }

  /** @private */
  send(frame) {
    if (this.ws?.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /** @private */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /** @private */
  onMessage(text) {
    if (text === 'pong') {
      this.missedPongs = 0;
      return;
    }
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.method === 'EVENT') {
      const { type, id } = frame.data ?? {};
      if (type === 'created') {
        this.id = id;
        this.attempt = 0;
      }
      this.emit(type, { id });
    } else if (frame.method === 'NOTIFY') {
      this.emit('notify', { from: frame.from, data: frame.data, message: frame });
    } else if (frame.msg_id !== undefined && this.pending.has(frame.msg_id)) {
      const { resolve, reject, timer } = this.pending.get(frame.msg_id);
      clearTimeout(timer);
      this.pending.delete(frame.msg_id);
      if (frame.code === 'success') resolve({ ...frame.result.configuration, ttl: frame.result.ttl });
      else reject(Object.assign(new Error(frame.reason), { code: frame.reason?.split(':')[0] }));
    } else if (frame.code === 'failed') {
      this.emit('error', { code: String(frame.reason).split(':')[0], reason: frame.reason, msgId: frame.msg_id });
    }
  }

  /** @private */
  onClose(ws, code, reason) {
    if (ws !== this.ws) return;
    this.stopHeartbeat();
    this.id = null;
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error('connection closed'));
    }
    this.pending.clear();
    const willReconnect = this.options.reconnect && !this.closedByUser && !isPermanentRefusal(code);
    this.emit('close', { code, reason, willReconnect });
    if (willReconnect) {
      // Full jitter keeps many clients of a restarted server from reconnecting in lockstep.
      const ceiling = Math.min(this.options.maxBackoffMs, this.options.minBackoffMs * 2 ** this.attempt);
      this.attempt += 1;
      this.reconnectTimer = setTimeout(() => this.connect(), this.options.minBackoffMs / 2 + Math.random() * ceiling);
    }
  }

  /** @private */
  startHeartbeat() {
    if (!this.options.heartbeatMs) return;
    this.missedPongs = 0;
    this.heartbeatTimer = setInterval(() => {
      // The server answers `ping` without waking the stream; silence means a dead path.
      if (this.missedPongs >= 2) {
        this.ws?.close(HEARTBEAT_TIMEOUT_CLOSE, 'heartbeat timeout');
        return;
      }
      this.missedPongs += 1;
      if (this.ws?.readyState === 1) this.ws.send('ping');
    }, this.options.heartbeatMs);
  }

  /** @private */
  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

/**
 * Opens a stream connection.
 * @param {string | URL} url `ws(s)://host/<stream path>`
 * @param {Mode} mode
 * @param {StreamClientOptions} [options]
 */
export function connect(url, mode, options) {
  return new StreamClient(url, mode, options).connect();
}

/**
 * The WebSocket URL of a stream on the server that served this page.
 * @param {string} path `/<stream path>`
 * @param {Location | URL} [base]
 */
export function streamUrl(path, base = globalThis.location) {
  const url = new URL(path.startsWith('/') ? path : `/${path}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
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
