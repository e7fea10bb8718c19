// WebRTC over Named Streams: one RTCPeerConnection per remote peer, negotiated with the
// "perfect negotiation" pattern so that offers crossing in flight (glare) resolve themselves.

/**
 * @typedef {object} PeerOptions
 * @property {import('./streams-client.js').StreamClient} signaling the connection carrying NOTIFYs
 * @property {string} remoteId the other side's id
 * @property {RTCConfiguration} configuration ICE servers and policy
 * @property {MediaStream} [localStream] tracks to send (the publisher's)
 * @property {(stream: MediaStream) => void} [onStream] called when remote media arrives
 * @property {(state: RTCPeerConnectionState) => void} [onState] called on connection state changes
 */

/**
 * A connection to one remote peer.
 * @typedef {object} Peer
 * @property {string} remoteId
 * @property {RTCPeerConnection} pc
 * @property {(message: any) => Promise<void>} handle feed a NOTIFY `data` from this peer
 * @property {(track: MediaStreamTrack | null, kind: string) => Promise<void>} replaceTrack swap the sent track of a kind
 * @property {(configuration: RTCConfiguration) => void} refresh apply new ICE servers (fresh credentials) and restart ICE
 * @property {() => void} close
 */

/**
 * Creates the connection to one peer. The side with the larger id is polite: it yields when
 * both sides offer at once. Candidates that arrive before the remote description are queued.
 * @param {PeerOptions} options
 * @returns {Peer}
 */
export function createPeer({ signaling, remoteId, configuration, localStream, onStream, onState }) {
  const pc = new RTCPeerConnection(configuration);
  const polite = String(signaling.id) > String(remoteId);
  let makingOffer = false;
  let ignoreOffer = false;
  /** @type {RTCIceCandidateInit[]} */
  let queued = [];
  let closed = false;

  const send = (data) => signaling.notify(remoteId, data);

  // Only the sending side adds tracks, so it is the one that offers; a receiver that adds
  // nothing never needs to negotiate and just answers.
  for (const track of localStream?.getTracks() ?? []) pc.addTrack(track, localStream);

  pc.onnegotiationneeded = async () => {
    try {
      makingOffer = true;
      await pc.setLocalDescription();
      send({ description: pc.localDescription });
    } catch (err) {
      console.warn('negotiation failed', err);
    } finally {
      makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => {
    if (candidate) send({ candidate });
  };
  pc.ontrack = ({ streams: [stream] }) => {
    if (stream) onStream?.(stream);
  };
  pc.onconnectionstatechange = () => onState?.(pc.connectionState);
  // A failed path while signaling is still up is often a changed network: try new candidates.
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'failed' && !closed) pc.restartIce();
  };

  async function handle({ description, candidate }) {
    if (closed) return;
    if (description) {
      const collision = description.type === 'offer' && (makingOffer || pc.signalingState !== 'stable');
      ignoreOffer = !polite && collision;
      if (ignoreOffer) return;
      await pc.setRemoteDescription(description);
      for (const c of queued) await addCandidate(c);
      queued = [];
      if (description.type === 'offer') {
        await pc.setLocalDescription();
        send({ description: pc.localDescription });
      }
    } else if (candidate) {
      if (!pc.remoteDescription) queued.push(candidate);
      else await addCandidate(candidate);
    }
  }

  async function addCandidate(candidate) {
    try {
      await pc.addIceCandidate(candidate);
    } catch (err) {
      if (!ignoreOffer) console.warn('bad ICE candidate', err);
    }
  }

  return {
    remoteId,
    pc,
    handle,
    async replaceTrack(track, kind) {
      // The receiver's track keeps its kind even while the sender's track is null.
      const transceiver = pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
      if (transceiver) await transceiver.sender.replaceTrack(track);
    },
    refresh(newConfiguration) {
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers: newConfiguration.iceServers });
      pc.restartIce();
    },
    close() {
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
 */
export function createMesh({ signaling, localStream, configuration = {}, onStream, onState }) {
  /** @type {Map<string, Peer>} */
  const peers = new Map();
  /** @type {Promise<RTCConfiguration> | null} */
  let ice = null;
  let refreshTimer = null;
  /** A refresh fell due while signaling was down: do it once the client is connected again. */
  let refreshOwed = false;
  /** Messages that arrived before their peer existed (an offer racing the `published` event). */
  const early = new Map();

  function iceConfiguration() {
    if (configuration.iceServers) return Promise.resolve(/** @type {RTCConfiguration} */ (configuration));
    ice ??= signaling
      .getConfiguration()
      .then((conf) => {
        scheduleRefresh(conf.ttl);
        return { ...configuration, iceServers: conf.iceServers };
      })
      .catch((err) => {
        console.warn('no ICE configuration from the server', err);
        ice = null;
        return { ...configuration, iceServers: [] };
      });
    return ice;
  }

  function scheduleRefresh(ttl) {
    clearTimeout(refreshTimer);
    if (!ttl) return;
    // Ask again at 80% of the lifetime, so connections restart ICE with valid credentials.
    refreshTimer = setTimeout(refreshIce, ttl * 800);
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
    scheduleRefresh(conf.ttl);
    const fresh = { ...configuration, iceServers: conf.iceServers };
    ice = Promise.resolve(fresh);
    for (const peer of peers.values()) peer.refresh(fresh);
  }

  async function open(remoteId) {
    if (peers.has(remoteId)) return;
    const conf = await iceConfiguration();
    if (peers.has(remoteId)) return;
    const peer = createPeer({
      signaling,
      remoteId,
      configuration: conf,
      localStream,
      onStream: (stream) => onStream?.(remoteId, stream),
      onState: (state) => onState?.(remoteId, state),
    });
    peers.set(remoteId, peer);
    for (const data of early.get(remoteId) ?? []) await peer.handle(data);
    early.delete(remoteId);
  }

  function drop(remoteId) {
    peers.get(remoteId)?.close();
    peers.delete(remoteId);
    early.delete(remoteId);
  }

  function dropAll() {
    for (const id of [...peers.keys()]) drop(id);
    ice = null;
  }

  const joined = signaling.mode === 'publish' ? 'subscribed' : 'published';
  const left = signaling.mode === 'publish' ? 'unsubscribed' : 'unpublished';
  signaling.on(joined, ({ id }) => open(id));
  signaling.on(left, ({ id }) => drop(id));
  // A new id (the first join, or a fresh one after a refused resume) makes every old peer
  // connection stale; a resumed connection keeps them all.
  signaling.on('created', dropAll);
  signaling.on('state', ({ state }) => {
    if (state === 'fresh-join' || state === 'closed') dropAll();
    if (state === 'connected' && refreshOwed && !configuration.iceServers) {
      refreshOwed = false;
      refreshIce();
    }
  });
  signaling.on('notify', ({ from, data }) => {
    const peer = peers.get(from);
    if (peer) peer.handle(data);
    else early.set(from, [...(early.get(from) ?? []), data]);
  });

  return {
    peers,
    /** Replaces the sent track of `kind` on every connection (camera switch, screen share). */
    async replaceTrack(track, kind) {
      await Promise.all([...peers.values()].map((p) => p.replaceTrack(track, kind)));
    },
    close() {
      clearTimeout(refreshTimer);
      dropAll();
    },
  };
}
