// Watching a room: which streams directly under a path prefix have a publisher now, and when one
// goes live or ends (docs/PROTOCOL.md, "Rooms: watching which streams are live"). Calls and
// conferences are built on it: every participant publishes its own stream under the room,
// watches the room, and subscribes to the others' streams as they appear.
//
// Works in browsers and in Node.js 20+ (pass `WebSocket` in the options where there is no
// global). Re-exported by streams-client.js.

import { normalizePath, streamUrl, isPermanentRefusal } from './streams-client.js';

/**
 * @typedef {object} WatchRoomOptions
 * @property {string} [token] A subscriber token for the room path with its trailing slash
 *   (`/rooms/team-42/`), where the deployment asks for one (docs/TOKENS.md). Sent as `?token=`;
 *   never put in events.
 * @property {string | URL} [server] The signaling server (an http(s) or ws(s) URL; only its
 *   origin counts). Default: the origin of the page.
 * @property {boolean} [reconnect=true] Reconnect after an unexpected close.
 * @property {number} [minBackoffMs=500] First reconnect delay.
 * @property {number} [maxBackoffMs=15000] Longest reconnect delay.
 * @property {number} [heartbeatMs=25000] Send the server's text `ping` this often, so a dead
 *   connection is noticed (and replaced) within `heartbeatMs` + 10 s; 0 turns it off.
 * @property {typeof WebSocket} [WebSocket] The WebSocket class, where there is no global one.
 */

/** @typedef {{ path: string, id: string }} RoomStream */

/**
 * Events and their `detail`:
 * - `streams`: `{ room, streams, added, removed }` on every (re)connect: `streams` is the whole
 *   list ({@link RoomStream}[], by path); `added` and `removed` say how it differs from what
 *   the watcher knew before (after a drop: what changed meanwhile; `removed` entries carry the
 *   id that ended).
 * - `live`: {@link RoomStream}, a stream of the room got a publisher.
 * - `ended`: {@link RoomStream}, its publisher left for good (not a drop it may resume from).
 * - `error`: `{ code, message }`, the server refused the watch or a frame (`code` is the
 *   server's machine code, e.g. `token-missing`, `room-full`, `not-a-room`).
 * - `close`: `{ code, reason, willReconnect }`, the socket closed.
 * @typedef {'streams' | 'live' | 'ended' | 'error' | 'close'} RoomEventName
 */

/**
 * The `detail` of each event, by name (see {@link RoomEventName}).
 * @typedef {object} RoomEvents
 * @property {{ room: string, streams: RoomStream[], added: RoomStream[], removed: RoomStream[] }} streams
 * @property {RoomStream} live
 * @property {RoomStream} ended
 * @property {{ code: string, message: string }} error
 * @property {{ code: number, reason: string, willReconnect: boolean }} close
 */

/** Close code of `not-a-room`: the path is no room on this deployment; retrying cannot help. */
export const NOT_A_ROOM_CLOSE = 4040;

/** A silent connection is given up this long after a `ping` that got no answer. */
const HEARTBEAT_TIMEOUT_MS = 10_000;

/** A room being watched, as an EventTarget (see {@link RoomEventName}). */
export class RoomWatcher extends EventTarget {
  /** @type {string} the room path, without a trailing slash */
  room;
  /** @type {Map<string, string>} stream path to publisher id, of what is live now */
  live = new Map();
  /** @type {string | null} this watcher's id on its current connection */
  id = null;
  /** @type {boolean} */
  closed = false;
  /** @type {URL} */
  #url;
  /** @type {Required<Omit<WatchRoomOptions, 'token' | 'server' | 'WebSocket'>> & { WebSocket: typeof WebSocket }} */
  #options;
  /** @type {WebSocket | null} */
  #ws = null;
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #retryTimer = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  #pingTimer = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #silenceTimer = null;

  /**
   * @param {string} path the room path (`/rooms/team-42`; a trailing `/` is ignored)
   * @param {WatchRoomOptions} [options]
   */
  constructor(path, options = {}) {
    super();
    const trimmed = String(path).replace(/\/+$/, '');
    this.room = normalizePath(trimmed);
    const WS = options.WebSocket ?? globalThis.WebSocket;
    if (!WS) throw new TypeError('no WebSocket class: pass one as the `WebSocket` option');
    const base = options.server ?? globalThis.location;
    if (!base) throw new TypeError('a room path needs the `server` option where there is no page origin');
    this.#url = streamUrl(this.room, base);
    this.#url.searchParams.set('mode', 'watch');
    if (options.token) this.#url.searchParams.set('token', options.token);
    this.#options = {
      reconnect: options.reconnect ?? true,
      minBackoffMs: options.minBackoffMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 15_000,
      heartbeatMs: options.heartbeatMs ?? 25_000,
      WebSocket: WS,
    };
    this.#open();
  }

  /** Stops watching for good. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.#stopTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= 1) ws.close(1000, 'bye');
  }

  #open() {
    const ws = new this.#options.WebSocket(this.#url.href);
    this.#ws = ws;
    /** @type {{ code: string, message: string } | null} */
    let refusal = null;
    ws.addEventListener('message', (e) => {
      if (this.#ws !== ws) return;
      this.#heard();
      if (e.data === 'pong') return;
      let frame;
      try {
        frame = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (frame?.code === 'failed' && typeof frame.reason === 'string') {
        const [code, ...rest] = frame.reason.split(': ');
        refusal = { code, message: rest.join(': ') };
        this.#emit('error', refusal);
        return;
      }
      if (frame?.method === 'EVENT') this.#event(frame.data ?? {});
    });
    ws.addEventListener('close', (e) => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      this.id = null;
      this.#stopTimers();
      const permanent = isPermanentRefusal(e.code) || e.code === NOT_A_ROOM_CLOSE || refusal?.code === 'not-a-room';
      const willReconnect = !this.closed && this.#options.reconnect && !permanent;
      this.#emit('close', { code: e.code, reason: e.reason, willReconnect });
      if (!willReconnect) {
        this.closed = true;
        return;
      }
      const delay = Math.min(this.#options.maxBackoffMs, this.#options.minBackoffMs * 2 ** this.#attempt);
      this.#attempt++;
      // Jitter, so many watchers of one room do not come back in lockstep.
      this.#retryTimer = setTimeout(() => this.#open(), delay * (0.5 + Math.random() / 2));
    });
  }

  /** @param {any} data */
  #event(data) {
    switch (data.type) {
      case 'created':
        this.id = data.id;
        this.#attempt = 0;
        this.#startHeartbeat();
        break;
      case 'streams': {
        /** @type {RoomStream[]} */
        const streams = Array.isArray(data.streams) ? data.streams.filter(isRoomStream) : [];
        /** @type {Map<string, string>} */
        const next = new Map(streams.map((s) => [s.path, s.id]));
        const removed = [...this.live].filter(([path, id]) => next.get(path) !== id).map(([path, id]) => ({ path, id }));
        const added = streams.filter((s) => this.live.get(s.path) !== s.id);
        this.live = next;
        this.#emit('streams', { room: this.room, streams, added, removed });
        break;
      }
      case 'live':
        if (!isRoomStream(data)) return;
        this.live.set(data.path, data.id);
        this.#emit('live', { path: data.path, id: data.id });
        break;
      case 'ended':
        if (!isRoomStream(data)) return;
        if (this.live.get(data.path) === data.id) this.live.delete(data.path);
        this.#emit('ended', { path: data.path, id: data.id });
        break;
    }
  }

  #startHeartbeat() {
    const every = this.#options.heartbeatMs;
    if (!every) return;
    this.#pingTimer = setInterval(() => {
      const ws = this.#ws;
      if (!ws || ws.readyState !== 1) return;
      ws.send('ping');
      this.#silenceTimer ??= setTimeout(() => {
        // No answer at all: the connection is dead without a close. Replace it.
        this.#silenceTimer = null;
        if (this.#ws === ws) ws.close(4900, 'heartbeat timeout');
      }, HEARTBEAT_TIMEOUT_MS);
    }, every);
  }

  #heard() {
    if (this.#silenceTimer) clearTimeout(this.#silenceTimer);
    this.#silenceTimer = null;
  }

  #stopTimers() {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#retryTimer = null;
    this.#pingTimer = null;
    this.#heard();
  }

  /**
   * Calls `listener` with the `detail` of every `type` event.
   * @template {RoomEventName} K
   * @param {K} type
   * @param {(detail: RoomEvents[K]) => void} listener
   * @returns {this}
   */
  on(type, listener) {
    this.addEventListener(type, (e) => listener(/** @type {CustomEvent<RoomEvents[K]>} */ (e).detail));
    return this;
  }

  /**
   * @template {RoomEventName} K
   * @param {K} type
   * @param {RoomEvents[K]} detail
   */
  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/** @returns {value is RoomStream} */
function isRoomStream(/** @type {any} */ value) {
  return typeof value?.path === 'string' && typeof value?.id === 'string';
}

/**
 * Watches a room: an EventTarget with `streams`, `live`, `ended`, `error` and `close` events
 * (`on(type, (detail) => ...)` is typed by {@link RoomEvents}) and a `live` Map of what is live
 * now. It reconnects after a drop and re-sends `streams`, so an
 * app that follows it converges to the truth.
 *
 *     const room = watchRoom('/rooms/team-42', { token, server });
 *     room.addEventListener('live', (e) => subscribeTo(e.detail.path));
 *
 * @param {string} path the room path (`/rooms/team-42`)
 * @param {WatchRoomOptions} [options]
 * @returns {RoomWatcher}
 */
export function watchRoom(path, options) {
  return new RoomWatcher(path, options);
}
