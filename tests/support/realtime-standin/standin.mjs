// TEST SUPPORT ONLY, never part of the product: a local stand-in for Cloudflare's Realtime SFU
// (its "Connection API"), so the Worker's SFU mode can be tested on a machine that cannot reach
// the real service. It speaks the documented HTTP API on 127.0.0.1, checks every request body
// against the documented shapes (../realtime-schema.mjs), and forwards real media with werift:
// RTP that arrives on a pushed track is sent on to every session that pulled it.
//
// Where it is simpler than the real service (README, "The Realtime SFU stand-in"): one process,
// no anycast; VP8 and Opus only, no simulcast, RTX or FEC; the SFU's own offer
// (`tracks/new` with local tracks and no offer), `tracks/update`, DataChannels and
// `autoDiscover` are refused as unsupported; no rate limits and no 30 s track collection.
import http from 'node:http';
import crypto from 'node:crypto';
import { RTCPeerConnection, RTCRtpCodecParameters, useSdesMid, useAbsSendTime } from 'werift';
import { checkRequest, routeOf } from '../realtime-schema.mjs';

/** Loopback only: candidates for any other address are dropped from what the stand-in sends. */
const HOST = '127.0.0.1';
/** The most a request body may be (an SDP offer with many tracks is a few tens of KiB). */
const MAX_BODY = 1 << 20;
/** How long an offer or answer waits for the stand-in's ICE candidates. */
const GATHER_MS = 5000;
/** Keyframe requests to a publisher at most this often per track. */
const PLI_GAP_MS = 500;

const peerConfig = () => ({
  codecs: {
    audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48000, channels: 2 })],
    video: [
      new RTCRtpCodecParameters({
        mimeType: 'video/VP8',
        clockRate: 90000,
        rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'goog-remb' }],
      }),
    ],
  },
  headerExtensions: { audio: [useSdesMid()], video: [useSdesMid(), useAbsSendTime()] },
  bundlePolicy: 'max-bundle',
  iceServers: [],
  iceUseIpv6: false,
  iceInterfaceAddresses: { udp4: HOST },
  iceAdditionalHostAddresses: [HOST],
});

/**
 * @typedef {object} PushedTrack a track a session publishes (`location: "local"`)
 * @property {'local'} location
 * @property {string} mid
 * @property {string} trackName
 * @property {string} kind
 * @property {any} transceiver
 * @property {number | undefined} ssrc the publisher's SSRC, once media arrived
 * @property {Set<PulledTrack>} pullers
 * @property {number} packets
 * @property {number} bytes
 * @property {number} lastPli
 */
/**
 * @typedef {object} PulledTrack a track a session plays (`location: "remote"`)
 * @property {'remote'} location
 * @property {string} mid
 * @property {string} trackName
 * @property {string} sessionId the publisher's session
 * @property {string} kind
 * @property {any} transceiver
 * @property {PushedTrack} source
 * @property {number} packets
 * @property {number} bytes
 */

/**
 * Creates the stand-in; `listen(port)` starts it.
 * @param {{ appId: string, appSecret: string, log?: (line: string) => void }} options
 */
export function createStandin({ appId, appSecret, log = () => {} }) {
  /** @type {Map<string, Session>} */
  const sessions = new Map();
  /** Requests whose body or headers broke the documented API: a test reads and fails on them. */
  const violations = [];
  let requests = 0;

  const violation = (req, path, problems) => {
    violations.push({ method: req.method, path, problems });
    log(`violation: ${req.method} ${path}: ${problems.join('; ')}`);
  };

  const server = http.createServer(async (req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      const url = new URL(req.url ?? '/', `http://${HOST}`);
      if (url.pathname.startsWith('/_standin/')) return introspect(url, req, reply);
      requests += 1;
      const path = url.pathname.replace(/^\/v1(?=\/)/, '');
      const route = url.pathname.startsWith('/v1/') ? routeOf(req.method ?? '', path) : null;
      if (!route) {
        // Under /v1/ a route the API lacks is the caller's mistake; elsewhere (a browser's
        // favicon request, say) it is nobody's.
        if (url.pathname.startsWith('/v1/')) violation(req, url.pathname, [`no such operation: ${req.method} ${url.pathname}`]);
        return reply(404, { errorCode: 'not_found', errorDescription: 'no such operation' });
      }
      if (req.headers.authorization !== `Bearer ${appSecret}`) {
        violation(req, url.pathname, ['missing or wrong Authorization: Bearer <app secret>']);
        return reply(401, { errorCode: 'unauthorized', errorDescription: 'the app secret was not accepted' });
      }
      if (route.appId !== appId) {
        violation(req, url.pathname, [`unknown app id`]);
        return reply(404, { errorCode: 'not_found', errorDescription: 'no such app' });
      }
      const raw = await readBody(req);
      let body;
      const problems = [];
      if (raw.length > 0) {
        if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) problems.push('a body must be sent as Content-Type: application/json');
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          problems.push('the body is not JSON');
        }
      }
      if (route.operation === 'sessions/new') {
        for (const key of url.searchParams.keys()) {
          if (key !== 'thirdparty' && key !== 'correlationId') problems.push(`unknown query parameter ${JSON.stringify(key)}`);
        }
      }
      if (problems.length === 0) problems.push(...checkRequest(route.operation, body));
      if (problems.length > 0) {
        violation(req, url.pathname, problems);
        return reply(400, { errorCode: 'invalid_request', errorDescription: problems.join('; ') });
      }
      if (route.operation === 'sessions/new') {
        const session = new Session(crypto.randomBytes(16).toString('hex'), sessions, log);
        sessions.set(session.id, session);
        const answer = body?.sessionDescription ? await session.run(() => session.answer(body.sessionDescription)) : undefined;
        return reply(201, { sessionId: session.id, ...(answer ? { sessionDescription: answer } : {}) });
      }
      const session = sessions.get(route.sessionId ?? '');
      if (!session) return reply(404, { errorCode: 'session_not_found', errorDescription: 'no such session' });
      // "Serialize mutations per session": the stand-in does it for the caller, in order.
      const [status, answer] = await session.run(() => session.handle(route.operation, body));
      return reply(status, answer);
    } catch (err) {
      log(`internal error: ${err?.stack ?? err}`);
      if (!res.headersSent) reply(500, { errorCode: 'internal_error', errorDescription: String(err?.message ?? err) });
    }
  });

  function introspect(url, req, reply) {
    if (url.pathname === '/_standin/violations' && req.method === 'GET') return reply(200, violations);
    if (url.pathname === '/_standin/stats' && req.method === 'GET') {
      return reply(200, { requests, sessions: [...sessions.values()].map((s) => s.stats()) });
    }
    return reply(404, { errorCode: 'not_found', errorDescription: 'no such introspection route' });
  }

  return {
    server,
    violations,
    sessions,
    /** Listens on 127.0.0.1; resolves with the port. */
    listen(port = 0) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, HOST, () => resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port));
      });
    },
    async close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}

/** One session: one werift peer connection with the pushed and pulled tracks on it. */
class Session {
  /**
   * @param {string} id
   * @param {Map<string, Session>} sessions every session, to find the tracks a pull names
   * @param {(line: string) => void} log
   */
  constructor(id, sessions, log) {
    this.id = id;
    this.sessions = sessions;
    this.log = log;
    this.pc = new RTCPeerConnection(peerConfig());
    /** @type {Map<string, PushedTrack | PulledTrack>} by mid */
    this.tracks = new Map();
    this.queue = Promise.resolve();
    this.closed = false;
    this.pc.connectionStateChange.subscribe((state) => {
      if (state === 'connected') for (const t of this.tracks.values()) if (t.location === 'remote') askForKeyframe(t.source);
    });
  }

  /** Runs `op` after every earlier operation on this session. */
  run(op) {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Applies an offer from the endpoint and returns the answer. */
  async answer(offer) {
    await this.pc.setRemoteDescription(offer);
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    return this.description();
  }

  /** The local description once ICE gathering is done, with loopback candidates only. */
  async description() {
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, GATHER_MS);
        const { unSubscribe } = this.pc.iceGatheringStateChange.subscribe((state) => {
          if (state === 'complete') {
            clearTimeout(timer);
            unSubscribe();
            resolve(undefined);
          }
        });
      });
    }
    const { type, sdp } = this.pc.localDescription;
    const lines = sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate:') || l.split(' ')[4] === HOST);
    return { type, sdp: lines.join('\r\n') };
  }

  /** @returns {Promise<[number, object]>} */
  async handle(operation, body) {
    switch (operation) {
      case 'sessions/get':
        return [200, { tracks: [...this.tracks.values()].map((t) => ({ ...describe(t), status: this.pc.connectionState === 'connected' ? 'active' : 'waiting' })) }];
      case 'tracks/new':
        return this.newTracks(body);
      case 'renegotiate':
        await this.pc.setRemoteDescription(body.sessionDescription);
        return [200, {}];
      case 'tracks/close':
        return this.closeTracks(body);
      default:
        return [501, { errorCode: 'not_supported_by_standin', errorDescription: `the stand-in does not implement ${operation}` }];
    }
  }

  async newTracks({ sessionDescription, tracks = [], autoDiscover }) {
    const local = tracks.filter((t) => t.location === 'local');
    const remote = tracks.filter((t) => t.location === 'remote');
    if (autoDiscover || (local.length > 0 && !sessionDescription) || (local.length > 0 && remote.length > 0)) {
      return [501, { errorCode: 'not_supported_by_standin', errorDescription: 'the stand-in pushes tracks from an offer and pulls them with its own offer or into the mids of the endpoint\'s offer, nothing else' }];
    }
    if (remote.length > 0 && sessionDescription) {
      // Pulls into the endpoint's own receive-only sections (a WHEP player's offer), by mid.
      await this.pc.setRemoteDescription(sessionDescription);
      const results = remote.map((t) => this.pullInto(t));
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      return [200, { requiresImmediateRenegotiation: false, sessionDescription: await this.description(), tracks: results }];
    }
    if (local.length > 0) {
      await this.pc.setRemoteDescription(sessionDescription);
      const results = local.map((t) => this.push(t));
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      return [200, { requiresImmediateRenegotiation: false, sessionDescription: await this.description(), tracks: results }];
    }
    const results = remote.map((t) => this.pull(t));
    if (!results.some((r) => !r.errorCode)) return [200, { requiresImmediateRenegotiation: false, tracks: results }];
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const offer = await this.description();
    // Mids are known once the offer is made.
    for (const r of results) {
      const t = r.pending;
      delete r.pending;
      if (!t) continue;
      t.mid = t.transceiver.mid;
      r.mid = t.mid;
      this.tracks.set(t.mid, t);
      t.source.pullers.add(t);
    }
    return [200, { requiresImmediateRenegotiation: true, sessionDescription: offer, tracks: results }];
  }

  /** Starts receiving one track of the endpoint's offer and relaying its RTP. */
  push({ mid, trackName }) {
    const transceiver = this.pc.getTransceivers().find((t) => t.mid === mid);
    if (!transceiver) return { mid, trackName, errorCode: 'invalid_mid', errorDescription: 'no transceiver in the offer has this mid' };
    if ([...this.tracks.values()].some((t) => t.location === 'local' && t.trackName === trackName)) {
      return { mid, trackName, errorCode: 'duplicate_track_name', errorDescription: 'this session already pushes a track by that name' };
    }
    /** @type {PushedTrack} */
    const track = { location: 'local', mid, trackName, kind: transceiver.kind, transceiver, ssrc: undefined, pullers: new Set(), packets: 0, bytes: 0, lastPli: 0 };
    this.tracks.set(mid, track);
    // The receiver's track exists once the offer is applied (its `track` event has fired).
    transceiver.receiver.track.onReceiveRtp.subscribe((rtp) => {
      track.ssrc = rtp.header.ssrc;
      forward(track, rtp);
    });
    return { mid, trackName };
  }

  /** Adds a transceiver that will carry a published track to this session. */
  pull({ sessionId, trackName }) {
    const source = [...(this.sessions.get(sessionId)?.tracks.values() ?? [])].find((t) => t.location === 'local' && t.trackName === trackName);
    if (!source) {
      return { sessionId, trackName, errorCode: 'track_not_found', errorDescription: 'no session publishes a track by that name' };
    }
    const transceiver = this.pc.addTransceiver(source.kind, { direction: 'sendonly' });
    /** @type {PulledTrack} */
    const track = { location: 'remote', mid: '', trackName, sessionId, kind: source.kind, transceiver, source, packets: 0, bytes: 0 };
    // A keyframe request from the player (it lost the picture, or it has just started) goes to
    // the publisher: the stand-in holds no keyframe of its own.
    transceiver.sender.onPictureLossIndication.subscribe(() => askForKeyframe(source));
    transceiver.sender.onReady.subscribe(() => askForKeyframe(source));
    return { sessionId, trackName, pending: track };
  }

  /** Sends a published track in the section of the endpoint's offer with this mid. */
  pullInto({ mid, sessionId, trackName }) {
    const source = [...(this.sessions.get(sessionId)?.tracks.values() ?? [])].find((t) => t.location === 'local' && t.trackName === trackName);
    if (!source) {
      return { mid, sessionId, trackName, errorCode: 'track_not_found', errorDescription: 'no session publishes a track by that name' };
    }
    const transceiver = this.pc.getTransceivers().find((t) => t.mid === mid);
    if (!transceiver || transceiver.kind !== source.kind) {
      return { mid, sessionId, trackName, errorCode: 'invalid_mid', errorDescription: 'no section of the offer of this kind has this mid' };
    }
    transceiver.setDirection('sendonly');
    /** @type {PulledTrack} */
    const track = { location: 'remote', mid, trackName, sessionId, kind: source.kind, transceiver, source, packets: 0, bytes: 0 };
    transceiver.sender.onPictureLossIndication.subscribe(() => askForKeyframe(source));
    transceiver.sender.onReady.subscribe(() => askForKeyframe(source));
    this.tracks.set(mid, track);
    source.pullers.add(track);
    return { mid, sessionId, trackName };
  }

  async closeTracks({ tracks, sessionDescription, force }) {
    const results = tracks.map(({ mid }) => {
      const t = this.tracks.get(mid);
      if (!t) return { mid, errorCode: 'invalid_mid', errorDescription: 'no track of this session has this mid' };
      this.dropTrack(t);
      return { mid };
    });
    if (sessionDescription) {
      await this.pc.setRemoteDescription(sessionDescription);
      await this.pc.setLocalDescription(await this.pc.createAnswer());
      return [200, { requiresImmediateRenegotiation: false, sessionDescription: await this.description(), tracks: results }];
    }
    if (force) return [200, { requiresImmediateRenegotiation: false, tracks: results }];
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return [200, { requiresImmediateRenegotiation: true, sessionDescription: await this.description(), tracks: results }];
  }

  dropTrack(t) {
    this.tracks.delete(t.mid);
    if (t.location === 'remote') {
      t.source.pullers.delete(t);
      t.transceiver.setDirection?.('inactive');
    } else {
      for (const p of t.pullers) p.transceiver.sender.stop?.();
      t.pullers.clear();
    }
  }

  stats() {
    return {
      sessionId: this.id,
      connectionState: this.pc.connectionState,
      tracks: [...this.tracks.values()].map((t) => ({ ...describe(t), kind: t.kind, packets: t.packets, bytes: t.bytes, ...(t.location === 'local' ? { pullers: t.pullers.size } : {}) })),
    };
  }

  close() {
    this.closed = true;
    for (const t of [...this.tracks.values()]) this.dropTrack(t);
    this.pc.close().catch(() => {});
  }
}

/** The documented track fields of a track, as GET sessions/{id} shows them. */
function describe(t) {
  return t.location === 'local' ? { location: 'local', mid: t.mid, trackName: t.trackName } : { location: 'remote', mid: t.mid, sessionId: t.sessionId, trackName: t.trackName };
}

/**
 * Sends one RTP packet of a pushed track to every puller. Each sender rewrites the SSRC and
 * payload type to its own negotiation's; the publisher's header extensions are dropped (their
 * ids belong to the publisher's session) and the sender writes its own.
 */
function forward(track, rtp) {
  track.packets += 1;
  track.bytes += rtp.payload.length;
  if (track.pullers.size === 0) return;
  const packet = rtp.clone();
  packet.header.extensions = [];
  for (const p of track.pullers) {
    const sender = p.transceiver.sender;
    if (sender.stopped || !sender.canSendRtp()) continue;
    p.packets += 1;
    p.bytes += packet.payload.length;
    sender.sendRtp(packet).catch(() => {});
  }
}

function askForKeyframe(track) {
  if (track.kind !== 'video' || track.ssrc === undefined) return;
  const now = Date.now();
  if (now - track.lastPli < PLI_GAP_MS) return;
  track.lastPli = now;
  track.transceiver.receiver.sendRtcpPLI(track.ssrc).catch(() => {});
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
