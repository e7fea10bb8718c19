// SFU mode: media through Cloudflare's Realtime SFU instead of the mesh (docs/PROTOCOL.md,
// "SFU mode"). The server says when with an `sfu` event: the publisher then pushes its tracks
// once to the SFU, and each subscriber pulls them from there. Every call goes through the
// Worker's proxy (`/api/sfu/<stream path>/...`) with the member's ticket; the Connection API's
// bodies are used as they are.
//
// A live switch from the mesh: a subscriber keeps its mesh connection until media flows from
// the SFU, shows the SFU's stream, closes its mesh connection and sends the publisher the
// NOTIFY `{"sfu":"moved"}`, on which the publisher closes its side of that connection (a closed
// peer connection is otherwise noticed only after seconds). Once the publisher is in SFU mode
// its mesh answers no new subscriber: they all come through the SFU.

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
 * @property {() => void} [onMoved] a subscriber: SFU media flows; close the mesh connection
 * @property {(remoteId: string) => void} [onPeerMoved] a publisher: that subscriber plays from
 *   the SFU; close its mesh connection
 * @property {(state: RTCPeerConnectionState) => void} [onState]
 * @property {typeof fetch} [fetch]
 */

/**
 * Connects the page to the SFU when the server says so, and keeps it so across re-sent events
 * and new publishers. `active` is true from the `sfu` event on (the mesh stays out of the way).
 * @param {SfuOptions} options
 */
export function createSfu({ signaling, localStream, configuration = {}, onStream, onMoved, onPeerMoved, onState, fetch = globalThis.fetch.bind(globalThis) }) {
  const publishing = signaling.mode === 'publish';
  const state = {
    /** Whether the stream is on the SFU for this member. */
    active: false,
    /** @type {RTCPeerConnection | null} */
    pc: null,
    /** @type {string | null} this member's SFU session */
    session: null,
    /** A subscriber: the publisher's session and tracks it pulls. */
    source: /** @type {{ session: string, tracks: string[] } | null} */ (null),
    /** A subscriber: SFU media reached the page and the mesh was let go. */
    moved: false,
  };
  /** Bumped whenever the current connection is abandoned, so stale async steps stop. */
  let generation = 0;

  signaling.on('sfu', (event) => {
    const parsed = parseEvent(event);
    if (!parsed) return;
    state.active = true;
    if (publishing) push(parsed.ticket);
    else if (parsed.session && parsed.tracks.length > 0) pull(parsed.ticket, parsed.session, parsed.tracks);
  });
  /** A subscriber: the publisher's id, to tell it when this page no longer needs the mesh. */
  let publisherId = null;
  if (!publishing) signaling.on('published', ({ id }) => (publisherId = id));
  // The publisher's mesh side of a subscriber that moved to the SFU.
  if (publishing) {
    signaling.on('notify', ({ from, data }) => {
      if (data?.sfu === MOVED.sfu && typeof from === 'string') onPeerMoved?.(from);
    });
  }
  // A new id or the end of the connection: whatever the SFU session carried is stale.
  signaling.on('created', () => reset(false));
  signaling.on('state', ({ state: s }) => {
    if (s === 'fresh-join' || s === 'closed') reset(false);
  });
  // The publisher left: its session is gone; the stream stays on the SFU for its successor.
  if (!publishing) {
    signaling.on('unpublished', () => {
      publisherId = null;
      reset(true);
    });
  }

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
   * Gives up the connection attempt `mine` after an error, unless a newer one replaced it. A
   * publisher then serves new viewers through the mesh again; a subscriber keeps whatever
   * plays, and a re-sent `sfu` event tries again.
   */
  function failed(mine, err) {
    console.warn('SFU:', err?.message ?? err);
    if (mine !== generation) return;
    state.pc?.close();
    state.pc = null;
    state.session = null;
    state.source = null;
    if (publishing) state.active = false;
  }

  /** Calls the proxy: `op` is the Connection API path after `/sessions/`. */
  async function call(ticket, method, op, body) {
    const url = new URL(signaling.url);
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
    url.pathname = `/api/sfu${url.pathname}/sessions/${op}`;
    url.search = '';
    const res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${ticket}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) {
      const code = answer?.error?.code ?? answer?.errorCode ?? `http-${res.status}`;
      throw new SfuError(code, answer?.error?.message ?? answer?.errorDescription ?? res.statusText);
    }
    if (answer?.errorCode) throw new SfuError(answer.errorCode, answer.errorDescription ?? '');
    const failed = Array.isArray(answer?.tracks) ? answer.tracks.find((t) => t?.errorCode) : undefined;
    if (failed) throw new SfuError(failed.errorCode, failed.errorDescription ?? '');
    return answer;
  }

  async function peerConnection() {
    let iceServers = configuration.iceServers;
    if (!iceServers) iceServers = (await signaling.getConfiguration().catch(() => ({ iceServers: [] }))).iceServers;
    const pc = new RTCPeerConnection({ ...configuration, iceServers, bundlePolicy: 'max-bundle' });
    pc.onconnectionstatechange = () => onState?.(pc.connectionState);
    return pc;
  }

  /** The publisher: one session, every local track pushed with one offer. */
  async function push(ticket) {
    if (state.pc) return; // pushed, or pushing: a re-sent event
    const mine = ++generation;
    try {
      await pushing(ticket, mine);
    } catch (err) {
      failed(mine, err);
    }
  }

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
    const tracks = pc.getTransceivers().map((t) => ({ location: 'local', mid: t.mid, trackName: `${t.sender.track?.kind ?? 'media'}-${t.mid}` }));
    const answer = await call(ticket, 'POST', `${sessionId}/tracks/new`, {
      sessionDescription: { type: 'offer', sdp: pc.localDescription?.sdp },
      tracks,
    });
    if (mine !== generation) return;
    await pc.setRemoteDescription(answer.sessionDescription);
  }

  /** A subscriber: pulls the publisher's tracks into a session of its own. */
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
    /** Whether the stream is on the SFU for this member. */
    get active() {
      return state.active;
    },
    /** The SFU peer connection, if any (tests read its statistics). */
    get pc() {
      return state.pc;
    },
    /**
     * The signaling the mesh should use: the same connection, except that once the stream is on
     * the SFU a publisher's mesh hears of no new subscriber (they come through the SFU).
     * @returns {StreamClient}
     */
    meshSignaling() {
      if (!publishing) return signaling;
      const on = (type, listener) => {
        signaling.on(type, (detail) => {
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
    /** Replaces the sent track of `kind` on the SFU connection (camera switch, screen share). */
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
 * The `sfu` event's fields, checked: the server is trusted, but a malformed frame must not
 * become a request to somewhere odd.
 * @returns {{ ticket: string, session: string | null, tracks: string[] } | null}
 */
export function parseEvent(event) {
  const { ticket, session, tracks } = event ?? {};
  if (typeof ticket !== 'string' || !/^[\x21-\x7e]{1,512}$/.test(ticket)) return null;
  if (session !== undefined && session !== null && (typeof session !== 'string' || !/^[\w-]{1,128}$/.test(session))) return null;
  if (tracks !== undefined && (!Array.isArray(tracks) || tracks.length > 64 || !tracks.every((t) => typeof t === 'string' && t.length > 0 && t.length <= 256))) return null;
  return { ticket, session: session ?? null, tracks: tracks ?? [] };
}

function sameList(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Resolves once ICE gathering is complete, or after GATHER_MS (what is gathered then goes). */
function gathered(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, GATHER_MS);
    function done() {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve(undefined);
    }
    function check() {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/** Resolves once video frames (or, without video, audio bytes) arrive on `pc`. */
async function mediaFlows(pc, abandoned) {
  const start = performance.now();
  while (!abandoned() && performance.now() - start < MEDIA_TIMEOUT_MS) {
    let video = false;
    let audio = false;
    let hasVideo = false;
    (await pc.getStats()).forEach((s) => {
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
