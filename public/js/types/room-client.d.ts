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
export function watchRoom(path: string, options?: WatchRoomOptions): RoomWatcher;
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
export const NOT_A_ROOM_CLOSE: 4040;
/** A room being watched, as an EventTarget (see {@link RoomEventName}). */
export class RoomWatcher extends EventTarget {
    /**
     * @param {string} path the room path (`/rooms/team-42`; a trailing `/` is ignored)
     * @param {WatchRoomOptions} [options]
     */
    constructor(path: string, options?: WatchRoomOptions);
    /** @type {string} the room path, without a trailing slash */
    room: string;
    /** @type {Map<string, string>} stream path to publisher id, of what is live now */
    live: Map<string, string>;
    /** @type {string | null} this watcher's id on its current connection */
    id: string | null;
    /** @type {boolean} */
    closed: boolean;
    /** Stops watching for good. */
    close(): void;
    /**
     * Calls `listener` with the `detail` of every `type` event.
     * @template {RoomEventName} K
     * @param {K} type
     * @param {(detail: RoomEvents[K]) => void} listener
     * @returns {this}
     */
    on<K extends RoomEventName>(type: K, listener: (detail: RoomEvents[K]) => void): this;
    #private;
}
export type WatchRoomOptions = {
    /**
     * A subscriber token for the room path with its trailing slash
     * (`/rooms/team-42/`), where the deployment asks for one (docs/TOKENS.md). Sent as `?token=`;
     * never put in events.
     */
    token?: string | undefined;
    /**
     * The signaling server (an http(s) or ws(s) URL; only its
     * origin counts). Default: the origin of the page.
     */
    server?: string | URL | undefined;
    /**
     * Reconnect after an unexpected close.
     */
    reconnect?: boolean | undefined;
    /**
     * First reconnect delay.
     */
    minBackoffMs?: number | undefined;
    /**
     * Longest reconnect delay.
     */
    maxBackoffMs?: number | undefined;
    /**
     * Send the server's text `ping` this often, so a dead
     * connection is noticed (and replaced) within `heartbeatMs` + 10 s; 0 turns it off.
     */
    heartbeatMs?: number | undefined;
    /**
     * The WebSocket class, where there is no global one.
     */
    WebSocket?: {
        new (url: string | URL, protocols?: string | string[]): WebSocket;
        prototype: WebSocket;
        readonly CONNECTING: 0;
        readonly OPEN: 1;
        readonly CLOSING: 2;
        readonly CLOSED: 3;
    } | undefined;
};
export type RoomStream = {
    path: string;
    id: string;
};
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
 */
export type RoomEventName = "streams" | "live" | "ended" | "error" | "close";
/**
 * The `detail` of each event, by name (see {@link RoomEventName}).
 */
export type RoomEvents = {
    streams: {
        room: string;
        streams: RoomStream[];
        added: RoomStream[];
        removed: RoomStream[];
    };
    live: RoomStream;
    ended: RoomStream;
    error: {
        code: string;
        message: string;
    };
    close: {
        code: number;
        reason: string;
        willReconnect: boolean;
    };
};
