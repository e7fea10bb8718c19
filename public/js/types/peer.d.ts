/**
 * Checks a NOTIFY's `data` as a signal from a peer. Anything else (null, a string, an object
 * with neither a description nor a candidate, or one of the wrong shape) is not an error of
 * this side: it is named, so it can be logged and ignored.
 * @param {unknown} data
 * @returns {{ ok: true, signal: Signal } | { ok: false, reason: string }}
 */
export function parseSignal(data: unknown): {
    ok: true;
    signal: Signal;
} | {
    ok: false;
    reason: string;
};
/**
 * Creates the connection to one peer. The side with the larger id is polite: it yields (rolls
 * its own offer back) when both sides offer at once; the impolite side ignores the crossing offer
 * and waits for the answer to its own.
 * @param {PeerOptions} options
 * @returns {Peer}
 */
export function createPeer({ signaling, remoteId, configuration, localStream, onStream, onState, logger, onError, RTCPeerConnection: PeerConnection, }: PeerOptions): Peer;
/**
 * @typedef {object} MeshOptions
 * @property {import('./streams-client.js').StreamClient} signaling
 * @property {MediaStream} [localStream] the publisher's media; subscribers leave it out
 * @property {Partial<RTCConfiguration>} [configuration] overrides (e.g. `iceTransportPolicy`);
 *   `iceServers` given here replace the server's
 * @property {(remoteId: string, stream: MediaStream) => void} [onStream]
 * @property {(remoteId: string, state: RTCPeerConnectionState) => void} [onState]
 * @property {ErrorHandler} [onError] called with every failure, of any peer or of the mesh
 *   (default: `logger.warn`)
 * @property {Logger} [logger] where ignored messages are reported (default: `console`)
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] the class to use, where there is no global one
 */
/**
 * @typedef {object} Mesh
 * @property {Map<string, Peer>} peers the connected (or connecting) peers, by id
 * @property {(track: MediaStreamTrack | null, kind: string) => Promise<void>} replaceTrack replaces
 *   the sent track of `kind` on every connection (camera switch, screen share)
 * @property {() => void} close closes every connection and stops listening
 */
/**
 * Connects a publisher to every subscriber, or a subscriber to the publisher, and keeps it so as
 * peers come and go. ICE servers come from the signaling server and are refreshed before
 * minted credentials expire.
 *
 * Media does not pass through the signaling server, so losing it is no reason to drop a peer
 * connection: while the client resumes (same id) every connection stays as it is and nothing is
 * renegotiated. Only a new id (a fresh join) or the end of the client makes them stale.
 * @param {MeshOptions} options
 * @returns {Mesh}
 */
export function createMesh({ signaling, localStream, configuration, onStream, onState, logger, onError, RTCPeerConnection, }: MeshOptions): Mesh;
export type MeshOptions = {
    signaling: import("./streams-client.js").StreamClient;
    /**
     * the publisher's media; subscribers leave it out
     */
    localStream?: MediaStream | undefined;
    /**
     * overrides (e.g. `iceTransportPolicy`);
     * `iceServers` given here replace the server's
     */
    configuration?: Partial<RTCConfiguration> | undefined;
    onStream?: ((remoteId: string, stream: MediaStream) => void) | undefined;
    onState?: ((remoteId: string, state: RTCPeerConnectionState) => void) | undefined;
    /**
     * called with every failure, of any peer or of the mesh
     * (default: `logger.warn`)
     */
    onError?: ErrorHandler | undefined;
    /**
     * where ignored messages are reported (default: `console`)
     */
    logger?: Logger | undefined;
    /**
     * the class to use, where there is no global one
     */
    RTCPeerConnection?: {
        new (configuration?: RTCConfiguration): RTCPeerConnection;
        prototype: RTCPeerConnection;
        generateCertificate(keygenAlgorithm: AlgorithmIdentifier): Promise<RTCCertificate>;
    } | undefined;
};
export type Mesh = {
    /**
     * the connected (or connecting) peers, by id
     */
    peers: Map<string, Peer>;
    /**
     * replaces
     * the sent track of `kind` on every connection (camera switch, screen share)
     */
    replaceTrack: (track: MediaStreamTrack | null, kind: string) => Promise<void>;
    /**
     * closes every connection and stops listening
     */
    close: () => void;
};
/**
 * Where a failure happened: making an offer, applying a description or candidate, swapping
 * tracks, fetching or applying ICE servers.
 */
export type PeerErrorStage = "negotiation" | "description" | "candidate" | "ice-servers" | "ice-restart";
export type ErrorHandler = (error: unknown, where: {
    remoteId: string | null;
    stage: PeerErrorStage;
}) => void;
/**
 * Where ignored messages are reported (`console` by default).
 */
export type Logger = {
    warn: (...args: any[]) => void;
};
/**
 * A signaling message between two peers: the `data` of a NOTIFY.
 */
export type Signal = {
    description: RTCSessionDescriptionInit;
} | {
    candidate: RTCIceCandidateInit;
};
export type PeerOptions = {
    /**
     * the connection carrying NOTIFYs
     */
    signaling: import("./streams-client.js").StreamClient;
    /**
     * the other side's id
     */
    remoteId: string;
    /**
     * ICE servers and policy
     */
    configuration: RTCConfiguration;
    /**
     * tracks to send (the publisher's)
     */
    localStream?: MediaStream | undefined;
    /**
     * called when remote media arrives
     */
    onStream?: ((stream: MediaStream) => void) | undefined;
    /**
     * called on connection state changes
     */
    onState?: ((state: RTCPeerConnectionState) => void) | undefined;
    /**
     * called with every failure (default: `logger.warn`)
     */
    onError?: ErrorHandler | undefined;
    /**
     * where ignored messages are reported (default: `console`)
     */
    logger?: Logger | undefined;
    /**
     * the class to use, where there is no global one
     */
    RTCPeerConnection?: {
        new (configuration?: RTCConfiguration): RTCPeerConnection;
        prototype: RTCPeerConnection;
        generateCertificate(keygenAlgorithm: AlgorithmIdentifier): Promise<RTCCertificate>;
    } | undefined;
};
/**
 * A connection to one remote peer.
 */
export type Peer = {
    remoteId: string;
    pc: RTCPeerConnection;
    /**
     * whether this side yields when both offer at once
     */
    polite: boolean;
    /**
     * feed a NOTIFY `data` from this peer;
     * never rejects (failures go to `onError`, unusable messages are logged and ignored)
     */
    handle: (message: unknown) => Promise<void>;
    /**
     * swap the sent track of a kind
     */
    replaceTrack: (track: MediaStreamTrack | null, kind: string) => Promise<void>;
    /**
     * apply new ICE servers (fresh credentials) and restart ICE
     */
    refresh: (configuration: RTCConfiguration) => void;
    close: () => void;
};
