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
export function isPermanentRefusal(code: number): boolean;
/**
 * Opens a stream connection.
 * @param {string | URL} url a stream path on this origin (or `options.server`), or a full
 *   `ws(s)://host/<stream path>` URL
 * @param {Mode} mode
 * @param {StreamClientOptions} [options]
 */
export function connect(url: string | URL, mode: Mode, options?: StreamClientOptions): StreamClient;
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
export function normalizePath(input: unknown, { maxBytes }?: {
    maxBytes?: number;
}): string;
/**
 * The WebSocket URL of a stream: `path` (normalized by {@link normalizePath}) on the server at
 * `base`, by default the one that served this page. Whatever `path` holds, the URL stays on
 * `base`'s host.
 * @param {string} path `/<stream path>`
 * @param {Location | URL | string} [base] the signaling server (an http(s) or ws(s) URL)
 * @returns {URL}
 */
export function streamUrl(path: string, base?: Location | URL | string): URL;
/**
 * The path subscribers use for a hash-protected stream: `/sha256/<hex of "/<name>">`.
 * @param {'sha1' | 'sha256'} algorithm
 * @param {string} name the plain stream name, with or without its leading slash
 */
export function hashPath(algorithm: "sha1" | "sha256", name: string): Promise<string>;
/** Close codes of the resume protocol (docs/PROTOCOL.md). */
export const CLOSE: Readonly<{
    /** The resume value was forged, replayed, or for another stream, mode or member. */
    RESUME_INVALID: 4030;
    /** The member's grace period ended before it came back. */
    RESUME_EXPIRED: 4031;
    /** A newer connection of the same member took over this one: never reconnect from it. */
    REPLACED: 4032;
    /** The server saw no heartbeat for too long; resumable. */
    HEARTBEAT_TIMEOUT: 4033;
}>;
/** The close code this client uses when it gives up on a silent or stuck connection. */
export const HEARTBEAT_TIMEOUT_CLOSE: 4900;
/** One connection to a named stream, as publisher or subscriber. Emits {@link StreamEventName}s. */
export class StreamClient extends EventTarget {
    /**
     * @param {string | URL} url the stream: a path (`/streams/demo`, on `options.server` or else
     *   the page's own origin) or a full `ws(s)://host/<stream path>` URL; without `mode` (it is added)
     * @param {Mode} mode
     * @param {StreamClientOptions} [options]
     */
    constructor(url: string | URL, mode: Mode, options?: StreamClientOptions);
    url: URL;
    mode: Mode;
    options: {
        /**
         * Reconnect (resuming when possible) after an unexpected close.
         */
        reconnect: boolean;
        /**
         * First reconnect delay.
         */
        minBackoffMs: number;
        /**
         * Longest reconnect delay (5 s at most while resuming, so
         * a resume lands within the server's grace period).
         */
        maxBackoffMs: number;
        /**
         * Send the server's text `ping` this often; 0 turns it off.
         */
        heartbeatMs: number;
        /**
         * How long after a `ping` the connection may stay silent
         * (no `pong`, no frame) before it is treated as dead and resumed. Default: `heartbeatMs`, at
         * most 10 s.
         */
        heartbeatTimeoutMs?: number | undefined;
        /**
         * How long an attempt may take to get `created`
         * before it is given up and retried (a lost network can leave a handshake hanging).
         */
        connectTimeoutMs: number;
        /**
         * How long `getConfiguration()` waits for an answer.
         */
        requestTimeoutMs: number;
        /**
         * NOTIFYs kept while resuming, sent once resumed.
         */
        maxQueuedFrames: number;
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
        /**
         * The signaling server a path is resolved against (an http(s)
         * or ws(s) URL; only its origin counts). Default: the origin of the page.
         */
        server?: string | URL | undefined;
    };
    /** @type {string | null} this member's id, once `created` arrived; kept while resuming */
    id: string | null;
    /** @type {ConnectionState} */
    state: ConnectionState;
    /** @type {WebSocket | null} the latest socket */
    ws: WebSocket | null;
    closedByUser: boolean;
    attempt: number;
    nextMsgId: number;
    /** @type {Map<number, { resolve: (configuration: IceConfiguration) => void, reject: (error: Error) => void, timer: ReturnType<typeof setTimeout> }>} */
    pending: Map<number, {
        resolve: (configuration: IceConfiguration) => void;
        reject: (error: Error) => void;
        timer: ReturnType<typeof setTimeout>;
    }>;
    /** @type {ReturnType<typeof setTimeout> | null} */
    reconnectTimer: ReturnType<typeof setTimeout> | null;
    /** Opens the connection (and keeps it open, if `reconnect` is on). */
    connect(): this;
    /**
     * Sends `data` to peer `to`; it arrives there as a `notify` event with this client's id as `from`.
     * While resuming it is queued and sent once resumed (dropped if the client joins afresh).
     * @param {string} to
     * @param {unknown} data
     * @returns {boolean} false when it was dropped (not connected, and not resuming)
     */
    notify(to: string, data: unknown): boolean;
    /**
     * Asks the server for the ICE configuration (`GET /peerconnection`).
     * @returns {Promise<IceConfiguration>}
     */
    getConfiguration(): Promise<IceConfiguration>;
    /** Closes for good: no reconnect. */
    close(code?: number, reason?: string): void;
    /**
     * Calls `listener` with the `detail` of every `type` event.
     * @template {StreamEventName} K
     * @param {K} type
     * @param {(detail: StreamEvents[K]) => void} listener
     * @returns {this}
     */
    on<K extends StreamEventName>(type: K, listener: (detail: StreamEvents[K]) => void): this;
    /**
     * @private
     * @param {object} frame
     * @returns {boolean} whether it was sent
     */
    private send;
    /**
     * @private
     * @param {string} type
     * @param {object} detail
     */
    private emit;
    /**
     * @private
     * @param {ConnectionState} state
     * @param {object} detail
     */
    private setState;
    /**
     * @private
     * @param {unknown} text
     */
    private onMessage;
    /**
     * @private
     * @param {{ id: string, resumed?: unknown, resume?: unknown }} created
     */
    private onCreated;
    /**
     * @private
     * @param {WebSocket} ws
     * @param {number} code
     * @param {string} reason
     */
    private onClose;
    /**
     * The next reconnect delay: exponential with full jitter, so the clients of a restarted
     * server do not come back in lockstep; capped lower while resuming (the grace period runs).
     * @private
     */
    private backoff;
    /**
     * @private
     * @param {WebSocket} ws
     */
    private startHeartbeat;
    /** Anything from the server proves the path alive. @private */
    private heard;
    /**
     * Treats a silent or stuck socket as closed now: a dead TCP path can take minutes to report
     * its close, and the resume should not wait for it. Its late events are ignored.
     * @private
     * @param {WebSocket} ws
     * @param {string} reason
     */
    private giveUp;
    /** @private */
    private stopHeartbeat;
    #private;
}
/** The longest path any deployment accepts (`MAX_PATH_BYTES` can be raised up to this). */
export const MAX_PATH_BYTES_LIMIT: 2048;
/**
 * First path segments that are never streams: the server's HTTP API and the page's asset
 * folders (core/src/path.rs `RESERVED_SEGMENTS`; the shared fixture checks both lists agree).
 */
export const RESERVED_SEGMENTS: readonly string[];
/** A stream path this client will not connect to, with the server's code for the same refusal. */
export class StreamPathError extends Error {
    /**
     * @param {'invalid-path' | 'path-too-long' | 'hash-prefix-variant' | 'not-found'} code
     * @param {string} sentence
     */
    constructor(code: "invalid-path" | "path-too-long" | "hash-prefix-variant" | "not-found", sentence: string);
    code: "invalid-path" | "path-too-long" | "hash-prefix-variant" | "not-found";
    sentence: string;
}
export type Mode = "publish" | "subscribe";
export type StreamClientOptions = {
    /**
     * Reconnect (resuming when possible) after an unexpected close.
     */
    reconnect?: boolean | undefined;
    /**
     * First reconnect delay.
     */
    minBackoffMs?: number | undefined;
    /**
     * Longest reconnect delay (5 s at most while resuming, so
     * a resume lands within the server's grace period).
     */
    maxBackoffMs?: number | undefined;
    /**
     * Send the server's text `ping` this often; 0 turns it off.
     */
    heartbeatMs?: number | undefined;
    /**
     * How long after a `ping` the connection may stay silent
     * (no `pong`, no frame) before it is treated as dead and resumed. Default: `heartbeatMs`, at
     * most 10 s.
     */
    heartbeatTimeoutMs?: number | undefined;
    /**
     * How long an attempt may take to get `created`
     * before it is given up and retried (a lost network can leave a handshake hanging).
     */
    connectTimeoutMs?: number | undefined;
    /**
     * How long `getConfiguration()` waits for an answer.
     */
    requestTimeoutMs?: number | undefined;
    /**
     * NOTIFYs kept while resuming, sent once resumed.
     */
    maxQueuedFrames?: number | undefined;
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
    /**
     * The signaling server a path is resolved against (an http(s)
     * or ws(s) URL; only its origin counts). Default: the origin of the page.
     */
    server?: string | URL | undefined;
    /**
     * An access token for this stream and mode (docs/TOKENS.md), sent as
     * `?token=` when joining. A resume presents its resume value instead: a token that expired
     * during the session is not needed again unless the client has to join afresh. The client
     * keeps the token (and resume values) out of its URL, its events and anything it logs.
     */
    token?: string | undefined;
};
export type IceConfiguration = {
    iceServers: RTCIceServer[];
    /**
     * Seconds until minted credentials expire; ask again before then.
     */
    ttl?: number | undefined;
};
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
 */
export type ConnectionState = "idle" | "connecting" | "connected" | "resuming" | "fresh-join" | "closed";
/**
 * The `detail` of each event, by name (see {@link StreamEventName}).
 */
export type StreamEvents = {
    state: {
        state: ConnectionState;
        id?: string | null;
        resumed?: boolean;
        previousId?: string;
        reason?: string;
        code?: number;
    };
    open: {};
    created: {
        id: string;
    };
    resumed: {
        id: string;
    };
    subscribed: {
        id: string;
    };
    unsubscribed: {
        id: string;
    };
    published: {
        id: string;
    };
    unpublished: {
        id: string;
    };
    notify: {
        from: string;
        data: unknown;
        message: Record<string, unknown>;
    };
    error: {
        code: string;
        reason: string;
        msgId?: number;
    };
    close: {
        code: number;
        reason: string;
        willReconnect: boolean;
        resuming: boolean;
    };
};
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
 */
export type StreamEventName = "state" | "open" | "created" | "resumed" | "subscribed" | "unsubscribed" | "published" | "unpublished" | "notify" | "error" | "close";
