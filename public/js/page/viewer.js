// The viewer view: the publisher's video, and what is going on when there is none.
import { connect } from '../streams-client.js';
import { createMesh } from '../peer.js';
import { createSfu, dropMeshPeer } from '../sfu.js';
import { fetchStreamStatus } from '../stream-status.js';
import { $, clientOptions, configurationOverrides, debug, report, setStatus, setView, watchConnection } from './common.js';

/**
 * Tells a viewer who arrives before the publisher that the stream has not started, from the
 * status API, while the connection is made beside it. `body[data-stream]` keeps the answer.
 * The page's token is for the stream's connection only, so where subscribers need a token the
 * status is refused and the page says what it always said.
 */
let waitingText = 'Waiting for the publisher…';
/** @param {string} path */
async function showStreamStatus(path) {
  const answer = await fetchStreamStatus(path);
  document.body.dataset.stream = answer.ok ? (answer.status.live ? 'live' : 'not-live') : 'unknown';
  if (answer.ok && !answer.status.live) waitingText = 'Waiting for the publisher: nobody is publishing on this stream yet.';
  // The stream's own events are newer than the answer: a publisher may have come meanwhile.
  if (debug.status === 'waiting') setStatus('waiting', answer.ok && answer.status.live ? 'The publisher is live; connecting…' : waitingText);
}

/** @param {string} path the normalized stream path */
export function subscribe(path) {
  setView('subscriber');
  setStatus('waiting', 'Checking the stream…');
  showStreamStatus(path).catch(report);
  const video = /** @type {HTMLVideoElement} */ ($('remote'));
  const client = connect(path, 'subscribe', clientOptions());
  debug.client = client;
  /** @param {MediaStream} stream */
  const show = (stream) => {
    // ontrack fires once per track of the same stream; reassigning would restart playback.
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    video.play().catch((err) => {
      // Autoplay with sound was blocked: one tap starts it.
      if (err.name === 'NotAllowedError') $('play').hidden = false;
      else report(err);
    });
  };
  /** @param {RTCPeerConnectionState} state */
  const showState = (state) => {
    if (state === 'connected') setStatus('live', 'Live');
    else if (state === 'connecting' || state === 'new') setStatus('connecting', 'Connecting…');
    else if (state === 'failed' || state === 'disconnected') setStatus('connecting', 'Connection interrupted, retrying…');
  };
  // SFU mode: the SFU's stream replaces the mesh's once it plays; then the mesh connection goes.
  const sfu = createSfu({
    signaling: client,
    configuration: configurationOverrides(),
    onStream: show,
    onMoved: () => {
      for (const id of [...mesh.peers.keys()]) dropMeshPeer(mesh, id);
    },
    onState: showState,
    onError: report,
  });
  debug.sfu = sfu;
  const mesh = createMesh({
    signaling: client,
    configuration: configurationOverrides(),
    onStream: (_, stream) => {
      if (!sfu.state.moved) show(stream);
    },
    onState: (_, state) => {
      if (!sfu.state.moved) showState(state);
    },
    onError: report,
  });
  debug.mesh = mesh;
  $('play').onclick = () => {
    video.play().catch(report);
  };
  video.addEventListener('playing', () => {
    $('play').hidden = true;
  });
  client.on('published', () => {
    waitingText = 'Waiting for the publisher…';
    setStatus('connecting', 'Connecting…');
  });
  client.on('unpublished', () => {
    video.srcObject = null;
    setStatus('publisher-left', 'The publisher left; waiting for them to come back…');
  });
  watchConnection(client, 'subscribe', {
    // A new id: the publisher will be announced again and connected afresh.
    onFreshJoin: () => {
      video.srcObject = null;
    },
  });
  client.on('created', () => setStatus('waiting', waitingText));
  startStats(mesh, sfu);
}

/**
 * A small overlay: bitrate, resolution and round-trip time of the incoming video.
 * @param {import('../peer.js').Mesh} mesh
 * @param {import('../sfu.js').Sfu} sfu
 */
function startStats(mesh, sfu) {
  /** @type {{ bytes: number, time: number } | null} */
  let last = null;
  const stats = $('stats');
  const update = async () => {
    const pc = sfu.state.moved ? sfu.pc : mesh.peers.values().next().value?.pc;
    if (!pc) {
      stats.hidden = true;
      return;
    }
    const report = await pc.getStats();
    /** @type {any} */
    let video;
    /** @type {any} */
    let pair;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
    if (!video) return;
    const kbps = last ? ((video.bytesReceived - last.bytes) * 8) / (video.timestamp - last.time) : 0;
    last = { bytes: video.bytesReceived, time: video.timestamp };
    const rtt = pair?.currentRoundTripTime !== undefined ? `${Math.round(pair.currentRoundTripTime * 1000)} ms` : '–';
    stats.textContent = `${Math.round(kbps)} kbit/s · ${video.frameWidth ?? 0}×${video.frameHeight ?? 0} · RTT ${rtt}`;
    stats.hidden = false;
  };
  setInterval(() => {
    update().catch(report);
  }, 1000);
}
