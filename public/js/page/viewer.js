// The viewer view: the publisher's video, and what is going on when there is none.
import { connect } from '../streams-client.js';
import { createMesh } from '../peer.js';
import { fetchStreamStatus } from '../stream-status.js';
import { $, clientOptions, configurationOverrides, debug, report, setStatus, setView, watchConnection } from './common.js';
import { refusalMessage } from './messages.js';

/**
 * What the stage says while there is no picture: a title and a sentence, or nothing (hidden)
 * once the video plays. `body[data-stage]` names it, for tests.
 * @param {string | null} code a messages.js code (`waiting-for-publisher`, `publisher-left`), or
 *   `connecting`; null hides the message
 * @param {string} [text] replaces the code's advice
 */
function stageMessage(code, text) {
  const box = $('stage-message');
  if (code === null) {
    box.hidden = true;
    delete document.body.dataset.stage;
    return;
  }
  const message = code === 'connecting' ? { title: 'Connecting…', advice: '' } : refusalMessage(code, 'subscribe');
  $('stage-title').textContent = message.title;
  $('stage-text').textContent = text ?? message.advice;
  box.hidden = false;
  document.body.dataset.stage = code;
}

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
  if (debug.status === 'waiting') {
    const live = answer.ok && answer.status.live;
    setStatus('waiting', live ? 'The publisher is live; connecting…' : waitingText);
    if (!live && answer.ok) stageMessage('waiting-for-publisher');
  }
}

/** @param {string} path the normalized stream path */
export function subscribe(path) {
  setView('subscriber');
  setStatus('waiting', 'Checking the stream…');
  stageMessage('connecting');
  showStreamStatus(path).catch(report);
  const video = /** @type {HTMLVideoElement} */ ($('remote'));
  const client = connect(path, 'subscribe', clientOptions());
  debug.client = client;
  const mesh = createMesh({
    signaling: client,
    configuration: configurationOverrides(),
    onStream: (_, stream) => {
      // ontrack fires once per track of the same stream; reassigning would restart playback.
      if (video.srcObject === stream) return;
      video.srcObject = stream;
      play(video).catch(report);
    },
    onState: (_, state) => {
      if (state === 'connected') setStatus('live', 'Live');
      else if (state === 'connecting' || state === 'new') setStatus('connecting', 'Connecting…');
      else if (state === 'failed' || state === 'disconnected') setStatus('connecting', 'Connection interrupted, retrying…');
    },
    onError: report,
  });
  debug.mesh = mesh;
  wirePlayer(video);
  client.on('published', () => {
    waitingText = 'Waiting for the publisher…';
    setStatus('connecting', 'Connecting…');
    stageMessage('connecting');
  });
  client.on('unpublished', () => {
    video.srcObject = null;
    setStatus('publisher-left', 'The publisher left; waiting for them to come back…');
    stageMessage('publisher-left');
  });
  watchConnection(client, 'subscribe', {
    // A new id: the publisher will be announced again and connected afresh.
    onFreshJoin: () => {
      video.srcObject = null;
    },
    onRetrying: (code) => stageMessage(code),
  });
  client.on('created', () => {
    setStatus('waiting', waitingText);
    // A publisher already there is announced right after `created`; until then, and when the
    // status could not be asked (a token-protected stream), the stage waits as the line does.
    const stream = document.body.dataset.stream;
    if (stream === 'not-live') stageMessage('waiting-for-publisher');
    else if (stream !== 'live') stageMessage('waiting-for-publisher', 'The video starts when the publisher is live.');
  });
  startStats(mesh);
}

/**
 * Starts the video with sound if the browser lets it, else muted with a "Tap to unmute" button
 * (browsers allow silent autoplay), else behind a Play button. `body[data-audio]` says which.
 * @param {HTMLVideoElement} video
 */
async function play(video) {
  video.muted = false;
  try {
    await video.play();
    document.body.dataset.audio = 'on';
    return;
  } catch (err) {
    if (!(err instanceof DOMException) || err.name !== 'NotAllowedError') throw err;
  }
  video.muted = true;
  try {
    await video.play();
    document.body.dataset.audio = 'muted-by-browser';
    $('unmute').hidden = false;
  } catch (err) {
    if (!(err instanceof DOMException) || err.name !== 'NotAllowedError') throw err;
    document.body.dataset.audio = 'blocked';
    $('play').hidden = false;
  }
}

/**
 * The player's buttons: Play and Tap to unmute over the video when the browser held it back,
 * and below it a sound toggle and full screen (the stage, so messages stay visible).
 * @param {HTMLVideoElement} video
 */
function wirePlayer(video) {
  const sound = $('sound');
  const fullscreen = $('fullscreen');
  const stage = $('viewer-stage');
  const showSound = () => {
    sound.textContent = video.muted ? 'Unmute' : 'Mute';
    sound.setAttribute('aria-pressed', String(video.muted));
  };
  video.addEventListener('volumechange', showSound);
  $('play').onclick = () => {
    video.muted = false;
    video.play().catch(report);
  };
  $('unmute').onclick = () => {
    video.muted = false;
    document.body.dataset.audio = 'on';
    $('unmute').hidden = true;
  };
  sound.onclick = () => {
    video.muted = !video.muted;
    if (!video.muted) $('unmute').hidden = true;
  };
  video.addEventListener('playing', () => {
    $('play').hidden = true;
    stageMessage(null);
  });
  fullscreen.onclick = () => {
    toggleFullscreen(stage, video).catch(report);
  };
  document.addEventListener('fullscreenchange', () => {
    const on = document.fullscreenElement === stage;
    fullscreen.textContent = on ? 'Exit full screen' : 'Full screen';
    fullscreen.setAttribute('aria-pressed', String(on));
  });
  showSound();
}

/**
 * @param {HTMLElement} stage
 * @param {HTMLVideoElement} video
 */
async function toggleFullscreen(stage, video) {
  if (document.fullscreenElement) {
    await document.exitFullscreen();
  } else if (stage.requestFullscreen) {
    await stage.requestFullscreen();
  } else {
    // iPhone Safari has full screen for video elements only.
    /** @type {any} */ (video).webkitEnterFullscreen?.();
  }
}

/**
 * A small overlay: bitrate, resolution and round-trip time of the incoming video.
 * @param {import('../peer.js').Mesh} mesh
 */
function startStats(mesh) {
  /** @type {{ bytes: number, time: number } | null} */
  let last = null;
  const stats = $('stats');
  const update = async () => {
    const [peer] = mesh.peers.values();
    if (!peer) {
      stats.hidden = true;
      return;
    }
    const report = await peer.pc.getStats();
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
