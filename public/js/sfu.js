// SFU mode: media through Cloudflare's Realtime SFU instead of the mesh (docs/PROTOCOL.md,
// "SFU mode"). The server says when with an `sfu` event: the publisher then pushes its tracks
// once to the SFU, and each subscriber pulls them from there. Every call goes through the
// Worker's proxy (`/api/sfu/<stream path>/...`) with the member's ticket; the bodies are the
// Connection API's own.
//
// A live switch from the mesh: a subscriber keeps its mesh connection until frames arrive from
// the SFU, shows the SFU's stream, closes its mesh connection and sends the publisher the
// NOTIFY `{"sfu":"moved"}`, on which the publisher closes its side of that connection (a closed
// peer connection is otherwise noticed only after seconds). From its `sfu` event on, the
// publisher's mesh takes no new subscriber: they all come through the SFU.

/** @typedef {import('./streams-client.js').StreamClient} StreamClient */

/** The NOTIFY a subscriber sends its publisher once it plays the SFU's stream. */
export const MOVED = Object.freeze({ sfu: 'moved' });

/** How long an offer or answer waits for local ICE candidates (the API has no trickle). */
const GATHER_MS = 3000;
/** How often a subscriber looks whether SFU media flows yet, and for how long. */
const POLL_MS = 200;
const MEDIA_TIMEOUT_MS = 30_000;

/** A refusal from the proxy or the SFU, with its stable code. */
export class SfuError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.name = 'SfuError';
    this.code = code;
  }
}

/**
 * @typedef {object} SfuOptions
 * @property {StreamClient} signaling the stream's connection; its `sfu` events drive this
 * @property {MediaStream} [localStream] the publisher's media; subscribers leave it out
 * @property {Partial<RTCConfiguration>} [configuration] overrides, as for the mesh
 * @property {(stream: MediaStream) => void} [onStream] a subscriber: the SFU's stream plays now
 * @property {() => void} [onMoved] a subscriber: SFU media flows, close the mesh connection
 * @property {(remoteId: string) => void} [onPeerMoved] a publisher: that subscriber plays from
 *   the SFU, close its mesh connection
 * @property {(state: RTCPeerConnectionState) => void} [onState] the SFU connection's state
 * @property {(err: unknown) => void} [onError] where failures go (logged by default)
 * @property {typeof fetch} [fetch]
 */

/**
 * @typedef {object} SfuState
 * @property {boolean} active the stream is on the SFU for this member
 * @property {RTCPeerConnection | null} pc the connection to the SFU
 * @property {string | null} session this member's SFU session
 * @property {{ session: string, tracks: string[] } | null} source a subscriber: what it pulls
 * @property {boolean} moved a subscriber: SFU media reached the page and the mesh was let go
 */

/**
 * @typedef {object} Sfu
 * @property {SfuState} state
 * @property {boolean} active
 * @property {RTCPeerConnection | null} pc
 * @property {() => StreamClient} meshSignaling
 * @property {(track: MediaStreamTrack | null, kind: string) => Promise<void>} replaceTrack
 * @property {() => void} close
 */

/** @typedef {{ ticket: string, session: string | null, tracks: string[] }} SfuEvent */

/**
 * Connects the page to the SFU when the server says so, and keeps it so across re-sent events
 * and new publishers.
 * @param {SfuOptions} options
 * @returns {Sfu}
 */
export function createSfu({
  signaling,
  localStream,
  configuration = {},
  onStream,
  onMoved,
  onPeerMoved,
  onState,
  onError = (err) => console.warn('SFU:', err),
  fetch = globalThis.fetch.bind(globalThis),
}) {
  const publishing = signaling.mode === 'publish';
  /** @type {SfuState} */
  const state = { active: false, pc: null, session: null, source: null, moved: false };
  /** Bumped whenever the current connection is given up, so its pending steps stop. */
  let generation = 0;
  /** A subscriber: the publisher's id, to tell it when this page no longer needs the mesh. */
  /** @type {string | null} */
  let publisherId = null;

  signaling.on('sfu', (/** @type {unknown} */ event) => {
    const parsed = parseEvent(event);
    if (!parsed) {
      onError(new SfuError('sfu-event', 'ignored a malformed sfu event'));
      return;
    }
    state.active = true;
    if (publishing) void push(parsed.ticket);
    else if (parsed.session && parsed.tracks.length > 0) void pull(parsed.ticket, parsed.session, parsed.tracks);
  });
  if (publishing) {
    // The publisher's mesh side of a subscriber that moved to the SFU.
    signaling.on('notify', (/** @type {{ from: unknown, data: any }} */ { from, data }) => {
      if (data?.sfu === MOVED.sfu && typeof from === 'string') onPeerMoved?.(from);
    });
  } else {
    signaling.on('published', (/** @type {{ id: string }} */ { id }) => {
      publisherId = id;
    });
    // The publisher left: its session is gone; the stream stays on the SFU for its successor.
    signaling.on('unpublished', () => {
      publisherId = null;
      reset(true);
    });
  }
  // A new id or the end of the connection: whatever the SFU session carried is stale.
  signaling.on('created', () => reset(false));
  signaling.on('state', (/** @type {{ state: string }} */ { state: s }) => {
    if (s === 'fresh-join' || s === 'closed') reset(false);
  });

  /** @param {boolean} keepActive */
  function reset(keepActive) {
    generation += 1;
    state.pc?.close();
    state.pc = null;
    state.session = null;
    state.source = null;
    state.moved = false;
    state.active = keepActive && state.active;
  }

  /**
   * Gives up the attempt `mine` after an error, unless a newer one replaced it. A publisher's
   * mesh then serves new viewers again; a subscriber keeps whatever plays, and a re-sent `sfu`
   * event tries again.
   * @param {number} mine
   * @param {unknown} err
   */
  function failed(mine, err) {
    onError(err);
    if (mine !== generation) return;
    state.pc?.close();
    state.pc = null;
    state.session = null;
    state.source = null;
    if (publishing) state.active = false;
  }

  /**
   * Calls the proxy; `op` is the Connection API path after `/sessions/`.
   * @param {string} ticket
   * @param {'POST' | 'PUT'} method
   * @param {string} op
   * @param {object} [body]
   * @returns {Promise<any>} the Connection API's answer
   */
  async function call(ticket, method, op, body) {
    const url = new URL(signaling.url);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = `/api/sfu${url.pathname}/sessions/${op}`;
    url.search = '';
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    /** @type {any} */
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      const code = answer?.error?.code ?? answer?.errorCode ?? `http-${res.status}`;
      throw new SfuError(String(code), String(answer?.error?.message ?? answer?.errorDescription ?? res.statusText));
    }
    if (answer?.errorCode) throw new SfuError(String(answer.errorCode), String(answer.errorDescription ?? ''));
    // "An HTTP 200 response alone does not establish that every requested resource succeeded."
    const bad = Array.isArray(answer?.tracks) ? answer.tracks.find((/** @type {any} */ t) => t?.errorCode) : undefined;
    if (bad) throw new SfuError(String(bad.errorCode), String(bad.errorDescription ?? ''));
    return answer;
  }

  async function peerConnection() {
    let iceServers = configuration.iceServers;
    if (!iceServers) iceServers = (await signaling.getConfiguration().catch(() => ({ iceServers: [] }))).iceServers;
    const pc = new RTCPeerConnection({ ...configuration, iceServers, bundlePolicy: 'max-bundle' });
    pc.onconnectionstatechange = () => onState?.(pc.connectionState);
    return pc;
  }

  /** @param {string} ticket */
  async function push(ticket) {
    if (state.pc) return; // pushed, or pushing: a re-sent event
    const mine = ++generation;
    try {
      await pushing(ticket, mine);
    } catch (err) {
      failed(mine, err);
    }
  }

  /**
   * The publisher: one session, every local track pushed with one offer.
   * @param {string} ticket
   * @param {number} mine
   */
  async function pushing(ticket, mine) {
    const pc = await peerConnection();
    if (mine !== generation) return pc.close();
    state.pc = pc;
    const { sessionId } = await call(ticket, 'POST', 'new');
    if (mine !== generation) return;
    state.session = sessionId;
    const stream = localStream ?? new MediaStream();
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    // Named as the Worker names a WHIP encoder's: `<kind>-<mid>`.
    const tracks = pc.getTransceivers().map((t) => ({ location: 'local', mid: t.mid, trackName: `${t.sender.track?.kind ?? 'media'}-${t.mid}` }));
    const answer = await call(ticket, 'POST', `${sessionId}/tracks/new`, {
      sessionDescription: { type: 'offer', sdp: pc.localDescription?.sdp },
      tracks,
    });
    if (mine !== generation) return;
    await pc.setRemoteDescription(answer.sessionDescription);
  }

  /**
   * @param {string} ticket
   * @param {string} session
   * @param {string[]} tracks
   */
  async function pull(ticket, session, tracks) {
    if (state.source?.session === session && sameList(state.source.tracks, tracks)) return;
    // Another publisher session, or other tracks: start over (the mesh, if any, still plays).
    state.pc?.close();
    state.pc = null;
    const mine = ++generation;
    state.source = { session, tracks };
    try {
      await pulling(ticket, session, tracks, mine);
    } catch (err) {
      failed(mine, err);
    }
  }

  /**
   * A subscriber: pulls the publisher's tracks into a session of its own, answering the SFU's
   * offer, and once frames arrive plays them in place of the mesh.
   * @param {string} ticket
   * @param {string} session
   * @param {string[]} tracks
   * @param {number} mine
   */
  async function pulling(ticket, session, tracks, mine) {
    const pc = await peerConnection();
    if (mine !== generation) return pc.close();
    state.pc = pc;
    const stream = new MediaStream();
    pc.ontrack = ({ track }) => stream.addTrack(track);
    const { sessionId } = await call(ticket, 'POST', 'new');
    if (mine !== generation) return;
    state.session = sessionId;
    const pulled = await call(ticket, 'POST', `${sessionId}/tracks/new`, {
      tracks: tracks.map((trackName) => ({ location: 'remote', sessionId: session, trackName })),
    });
    if (mine !== generation) return;
    await pc.setRemoteDescription(pulled.sessionDescription);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc);
    if (pulled.requiresImmediateRenegotiation) {
      await call(ticket, 'PUT', `${sessionId}/renegotiate`, { sessionDescription: { type: 'answer', sdp: pc.localDescription?.sdp } });
    }
    if (mine !== generation) return;
    await mediaFlows(pc, () => mine !== generation);
    if (mine !== generation) return;
    onStream?.(stream);
    if (!state.moved) {
      state.moved = true;
      onMoved?.();
      if (publisherId) signaling.notify(publisherId, MOVED);
    }
  }

  return {
    state,
    get active() {
      return state.active;
    },
    get pc() {
      return state.pc;
    },
    /**
     * The signaling the mesh should use: the same connection, except that once the stream is on
     * the SFU a publisher's mesh hears of no new subscriber (they come through the SFU).
     */
    meshSignaling() {
      if (!publishing) return signaling;
      /**
       * @param {string} type
       * @param {(detail: any) => void} listener
       */
      const on = (type, listener) => {
        signaling.on(/** @type {any} */ (type), (detail) => {
          if (type === 'subscribed' && state.active) return;
          listener(detail);
        });
        return gated;
      };
      const gated = new Proxy(signaling, {
        get(target, prop) {
          if (prop === 'on') return on;
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
      return gated;
    },
    async replaceTrack(track, kind) {
      // The receiver's track keeps its kind even while the sender's track is null.
      const transceiver = state.pc?.getTransceivers().find((t) => t.receiver.track.kind === kind);
      if (transceiver) await transceiver.sender.replaceTrack(track);
    },
    close() {
      reset(false);
    },
  };
}

/**
 * Closes a mesh connection to one peer (it plays from the SFU now).
 * @param {import('./peer.js').Mesh} mesh
 * @param {string} id
 */
export function dropMeshPeer(mesh, id) {
  mesh.peers.get(id)?.close();
  mesh.peers.delete(id);
}

/**
 * The `sfu` event's fields, checked: the server is trusted, but a malformed frame must not turn
 * into a request to somewhere odd.
 * @param {unknown} event
 * @returns {SfuEvent | null}
 */
export function parseEvent(event) {
  if (event === null || typeof event !== 'object') return null;
  const { ticket, session, tracks } = /** @type {Record<string, unknown>} */ (event);
  if (typeof ticket !== 'string' || !/^[\x21-\x7e]{1,512}$/.test(ticket)) return null;
  if (session !== undefined && session !== null && (typeof session !== 'string' || !/^[\w-]{1,128}$/.test(session))) return null;
  if (tracks !== undefined && tracks !== null) {
    if (!Array.isArray(tracks) || tracks.length > 64) return null;
    if (!tracks.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 256)) return null;
  }
  return { ticket, session: typeof session === 'string' ? session : null, tracks: Array.isArray(tracks) ? tracks : [] };
}

/**
 * @param {string[]} a
 * @param {string[]} b
 */
function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Resolves once ICE gathering is complete, or after GATHER_MS (what is gathered by then goes).
 * @param {RTCPeerConnection} pc
 * @returns {Promise<void>}
 */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const timer = setTimeout(done, GATHER_MS);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * Resolves once video frames (or, without video, audio bytes) arrive on `pc`.
 * @param {RTCPeerConnection} pc
 * @param {() => boolean} abandoned
 */
async function mediaFlows(pc, abandoned) {
  const start = performance.now();
  while (!abandoned() && performance.now() - start < MEDIA_TIMEOUT_MS) {
    let video = false;
    let audio = false;
    let hasVideo = false;
    (await pc.getStats()).forEach((/** @type {any} */ s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        hasVideo = true;
        video ||= (s.framesDecoded ?? 0) > 0;
      } else if (s.kind === 'audio') audio ||= (s.bytesReceived ?? 0) > 0;
    });
    if (hasVideo ? video : audio) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (!abandoned()) throw new SfuError('sfu-no-media', 'no media arrived from the SFU');
}
