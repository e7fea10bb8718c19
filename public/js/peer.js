// WebRTC over Named Streams: one RTCPeerConnection per remote peer, negotiated with the "perfect
// negotiation" pattern of the WebRTC specification, so that offers crossing in flight (glare),
// from ICE restarts or new tracks on both sides at once, resolve themselves.
//
// Every asynchronous path ends in one handler: nothing here throws into the event loop or leaves
// a promise rejected unseen. Failures go to `onError`; signaling messages this side cannot use
// are ignored and logged with the reason.

/**
 * Where a failure happened: making an offer, applying a description or candidate, swapping
 * tracks, fetching or applying ICE servers.
 * @typedef {'negotiation' | 'description' | 'candidate' | 'ice-servers' | 'ice-restart'} PeerErrorStage
 */

/**
 * @callback ErrorHandler
 * @param {unknown} error what failed
 * @param {{ remoteId: string | null, stage: PeerErrorStage }} where
 * @returns {void}
 */

/**
 * Where ignored messages are reported (`console` by default).
 * @typedef {{ warn: (...args: any[]) => void }} Logger
 */

/**
 * A signaling message between two peers: the `data` of a NOTIFY.
 * @typedef {{ description: RTCSessionDescriptionInit } | { candidate: RTCIceCandidateInit }} Signal
 */

/**
 * @typedef {object} PeerOptions
 * @property {import('./streams-client.js').StreamClient} signaling the connection carrying NOTIFYs
 * @property {string} remoteId the other side's id
 * @property {RTCConfiguration} configuration ICE servers and policy
 * @property {MediaStream} [localStream] tracks to send (the publisher's)
 * @property {(stream: MediaStream) => void} [onStream] called when remote media arrives
 * @property {(state: RTCPeerConnectionState) => void} [onState] called on connection state changes
 * @property {ErrorHandler} [onError] called with every failure (default: `logger.warn`)
 * @property {Logger} [logger] where ignored messages are reported (default: `console`)
 * @property {typeof RTCPeerConnection} [RTCPeerConnection] the class to use, where there is no global one
 */

/**
 * A connection to one remote peer.
 * @typedef {object} Peer
 * @property {string} remoteId
 * @property {RTCPeerConnection} pc
 * @property {boolean} polite whether this side yields when both offer at once
 * @property {(message: unknown) => Promise<void>} handle feed a NOTIFY `data` from this peer;
 *   never rejects (failures go to `onError`, unusable messages are logged and ignored)
 * @property {(track: MediaStreamTrack | null, kind: string) => Promise<void>} replaceTrack swap the sent track of a kind
 * @property {(configuration: RTCConfiguration) => void} refresh apply new ICE servers (fresh credentials) and restart ICE
 * @property {() => void} close
 */

const DESCRIPTION_TYPES = new Set(['offer', 'answer', 'pranswer', 'rollback']);

/**
 * Checks a NOTIFY's `data` as a signal from a peer. Anything else (null, a string, an object
 * with neither a description nor a candidate, or one of the wrong shape) is not an error of
 * this side: it is named, so it can be logged and ignored.
 * @param {unknown} data
 * @returns {{ ok: true, signal: Signal } | { ok: false, reason: string }}
 */
export function parseSignal(data) {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, reason: `data is ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}, not an object` };
  }
  const { description, candidate } = /** @type {Record<string, unknown>} */ (data);
  if (description !== undefined) {
    if (description === null || typeof description !== 'object') return { ok: false, reason: 'description is not an object' };
    const { type, sdp } = /** @type {Record<string, unknown>} */ (description);
    if (typeof type !== 'string' || !DESCRIPTION_TYPES.has(type)) return { ok: false, reason: 'description has no valid type' };
    if (type !== 'rollback' && typeof sdp !== 'string') return { ok: false, reason: 'description has no sdp text' };
    return { ok: true, signal: { description: /** @type {RTCSessionDescriptionInit} */ (description) } };
  }
  if (candidate !== undefined) {
    if (candidate === null || typeof candidate !== 'object') return { ok: false, reason: 'candidate is not an object' };
    const { candidate: line } = /** @type {Record<string, unknown>} */ (candidate);
    if (typeof line !== 'string') return { ok: false, reason: 'candidate has no candidate text' };
    return { ok: true, signal: { candidate: /** @type {RTCIceCandidateInit} */ (candidate) } };
  }
  return { ok: false, reason: 'neither a description nor a candidate' };
}

/** @param {Logger} logger @returns {ErrorHandler} */
const logErrors = (logger) => (error, { remoteId, stage }) => logger.warn(`peer ${remoteId ?? '-'}: ${stage} failed`, error);

/**
 * Creates the connection to one peer. The side with the larger id is polite: it yields (rolls
 * its own offer back) when both sides offer at once; the impolite side ignores the crossing offer
 * and waits for the answer to its own.
 * @param {PeerOptions} options
 * @returns {Peer}
 */
export function createPeer({
  signaling,
  remoteId,
  configuration,
  localStream,
  onStream,
  onState,
  logger = console,
  onError = logErrors(logger),
  RTCPeerConnection: PeerConnection = globalThis.RTCPeerConnection,
}) {
  const pc = new PeerConnection(configuration);
  const polite = String(signaling.id) > String(remoteId);
  // The three flags of perfect negotiation (WebRTC 1.0, section 10.7).
  let makingOffer = false;
  let ignoreOffer = false;
  let isSettingRemoteAnswerPending = false;
  let closed = false;

  /** @param {Signal} data */
  const send = (data) => signaling.notify(remoteId, data);
  /** @param {PeerErrorStage} stage @param {unknown} error */
  const fail = (stage, error) => {
    // A closed connection rejects whatever was in flight: that is its end, not a failure.
    if (!closed) onError(error, { remoteId, stage });
  };

  // Only the sending side adds tracks, so it is the one that offers; a receiver that adds
  // nothing never needs to negotiate and just answers.
  if (localStream) for (const track of localStream.getTracks()) pc.addTrack(track, localStream);

  pc.onnegotiationneeded = async () => {
    try {
      makingOffer = true;
      await pc.setLocalDescription();
      if (pc.localDescription) send({ description: pc.localDescription });
    } catch (err) {
      fail('negotiation', err);
    } finally {
      makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) send({ candidate: candidate.toJSON() });
  };
  pc.ontrack = ({ streams: [stream] }) => {
    if (stream) onStream?.(stream);
  };
  pc.onconnectionstatechange = () => onState?.(pc.connectionState);
  // A failed path while signaling is still up is often a changed network: try new candidates.
  // Both sides may do this at once; their offers cross and the roles above settle it.
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'failed' && !closed) pc.restartIce();
  };

  /** @param {RTCSessionDescriptionInit} description */
  async function applyDescription(description) {
    const offerCollision =
      description.type === 'offer' && (makingOffer || (pc.signalingState !== 'stable' && !isSettingRemoteAnswerPending));
    ignoreOffer = !polite && offerCollision;
    if (ignoreOffer) return;
    isSettingRemoteAnswerPending = description.type === 'answer';
    try {
      // On the polite side, an offer that collides rolls back its own first (implicitly).
      await pc.setRemoteDescription(description);
    } finally {
      isSettingRemoteAnswerPending = false;
    }
    if (description.type === 'offer') {
      await pc.setLocalDescription();
      if (pc.localDescription) send({ description: pc.localDescription });
    }
  }

  /** @param {RTCIceCandidateInit} candidate */
  async function applyCandidate(candidate) {
    try {
      await pc.addIceCandidate(candidate);
    } catch (err) {
      // Candidates of an offer this side ignored cannot apply: expected, not a failure.
      if (!ignoreOffer) throw err;
    }
  }

  /** @param {unknown} message */
  async function handle(message) {
    if (closed) return;
    const parsed = parseSignal(message);
    if (!parsed.ok) {
      logger.warn(`peer ${remoteId}: ignored a signaling message: ${parsed.reason}`);
      return;
    }
    const { signal } = parsed;
    const stage = 'description' in signal ? 'description' : 'candidate';
    try {
      if ('description' in signal) await applyDescription(signal.description);
      else await applyCandidate(signal.candidate);
    } catch (err) {
      fail(stage, err);
    }
  }

  return {
    remoteId,
    pc,
    polite,
    handle,
    async replaceTrack(track, kind) {
      // The receiver's track keeps its kind even while the sender's track is null.
      const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
      if (transceiver) await transceiver.sender.replaceTrack(track);
    },
    refresh(newConfiguration) {
      if (closed) return;
      try {
        pc.setConfiguration({ ...pc.getConfiguration(), iceServers: newConfiguration.iceServers });
        pc.restartIce();
      } catch (err) {
        fail('ice-restart', err);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      pc.close();
      onState?.('closed');
    },
  };
}

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
export function createMesh({
  signaling,
  localStream,
  configuration = {},
  onStream,
  onState,
  logger = console,
  onError = logErrors(logger),
  RTCPeerConnection,
}) {
  /** @type {Map<string, Peer>} */
  const peers = new Map();
  /**
   * Peers whose ICE configuration is being fetched, with the signals that arrived meanwhile
   * (an offer can overtake the fetch). Dropping a peer removes its entry, which is how the fetch,
   * when it ends, knows not to connect it.
   * @type {Map<string, unknown[]>}
   */
  const opening = new Map();
  /** @type {Promise<RTCConfiguration> | null} */
  let ice = null;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let refreshTimer;
  /** A refresh fell due while signaling was down: do it once the client is connected again. */
  let refreshOwed = false;
  let closed = false;

  /** @returns {Promise<RTCConfiguration>} never rejects */
  function iceConfiguration() {
    if (configuration.iceServers) return Promise.resolve(/** @type {RTCConfiguration} */ (configuration));
    ice ??= signaling
      .getConfiguration()
      .then((conf) => {
        scheduleRefresh(conf.ttl);
        return { ...configuration, iceServers: conf.iceServers };
      })
      .catch((err) => {
        onError(err, { remoteId: null, stage: 'ice-servers' });
        ice = null;
        return { ...configuration, iceServers: [] };
      });
    return ice;
  }

  /** @param {number | undefined} ttl */
  function scheduleRefresh(ttl) {
    clearTimeout(refreshTimer);
    if (!ttl || closed) return;
    // Ask again at 80% of the lifetime, so connections restart ICE with valid credentials.
    refreshTimer = setTimeout(() => {
      refreshIce().catch((err) => onError(err, { remoteId: null, stage: 'ice-servers' }));
    }, ttl * 800);
  }

  async function refreshIce() {
    let conf;
    try {
      conf = await signaling.getConfiguration();
    } catch {
      // Signaling is down (or slow): keep the servers in use rather than restart ICE with none.
      refreshOwed = true;
      return;
    }
    if (closed) return;
    scheduleRefresh(conf.ttl);
    const fresh = { ...configuration, iceServers: conf.iceServers };
    ice = Promise.resolve(fresh);
    for (const peer of peers.values()) peer.refresh(fresh);
  }

  /** @param {string} remoteId */
  async function open(remoteId) {
    if (peers.has(remoteId) || opening.has(remoteId)) return;
    /** @type {unknown[]} */
    const early = [];
    opening.set(remoteId, early);
    const conf = await iceConfiguration();
    // Dropped (or dropped and announced again) while the configuration was on its way.
    if (opening.get(remoteId) !== early || closed) return;
    opening.delete(remoteId);
    const peer = createPeer({
      signaling,
      remoteId,
      configuration: conf,
      localStream,
      onStream: (stream) => onStream?.(remoteId, stream),
      onState: (state) => onState?.(remoteId, state),
      onError,
      logger,
      ...(RTCPeerConnection ? { RTCPeerConnection } : {}),
    });
    peers.set(remoteId, peer);
    // In order: each starts its operation on the connection before the next is looked at.
    for (const data of early) void peer.handle(data);
  }

  /** @param {string} remoteId */
  function drop(remoteId) {
    opening.delete(remoteId);
    peers.get(remoteId)?.close();
    peers.delete(remoteId);
  }

  function dropAll() {
    for (const id of [...peers.keys(), ...opening.keys()]) drop(id);
    ice = null;
  }

  /** @param {string} remoteId */
  const start = (remoteId) => {
    open(remoteId).catch((err) => {
      opening.delete(remoteId);
      onError(err, { remoteId, stage: 'negotiation' });
    });
  };

  const joined = signaling.mode === 'publish' ? 'subscribed' : 'published';
  const left = signaling.mode === 'publish' ? 'unsubscribed' : 'unpublished';
  signaling.on(joined, ({ id }) => {
    if (!closed) start(id);
  });
  signaling.on(left, ({ id }) => drop(id));
  // A new id (the first join, or a fresh one after a refused resume) makes every old peer
  // connection stale; a resumed connection keeps them all.
  signaling.on('created', dropAll);
  signaling.on('state', ({ state }) => {
    if (state === 'fresh-join' || state === 'closed') dropAll();
    if (state === 'connected' && refreshOwed && !configuration.iceServers && !closed) {
      refreshOwed = false;
      refreshIce().catch((err) => onError(err, { remoteId: null, stage: 'ice-servers' }));
    }
  });
  signaling.on('notify', ({ from, data }) => {
    if (closed) return;
    const peer = peers.get(from);
    if (peer) {
      void peer.handle(data);
      return;
    }
    const parsed = parseSignal(data);
    const early = opening.get(from);
    if (!parsed.ok) logger.warn(`peer ${from}: ignored a signaling message: ${parsed.reason}`);
    else if (early) early.push(data);
    // The server announces a peer before relaying anything from it, so this is one that left.
    else logger.warn(`peer ${from}: ignored a signaling message from a peer that is not connected`);
  });

  return {
    peers,
    async replaceTrack(track, kind) {
      await Promise.all([...peers.values()].map((p) => p.replaceTrack(track, kind)));
    },
    close() {
      closed = true;
      clearTimeout(refreshTimer);
      dropAll();
    },
  };
}
