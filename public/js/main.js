// UI wiring only: the protocol lives in streams-client.js, WebRTC in peer.js.
import { CLOSE, connect, hashPath, isPermanentRefusal, normalizePath, StreamPathError } from './streams-client.js';
import { createMesh } from './peer.js';
import { createSfu } from './sfu.js';
import { describeStatus, fetchStreamStatus } from './stream-status.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

/** State the end-to-end tests read; handy in the console too. */
const debug = { status: 'idle', client: null, mesh: null, sfu: null };
window.namedStreams = debug;

function setView(view) {
  document.body.dataset.view = view;
}

let statusText = '';
/** Whether signaling is down while the session (and its media) carries on. */
let signalingResuming = false;

function setStatus(status, text) {
  debug.status = status;
  document.body.dataset.status = status;
  statusText = text;
  $('status').textContent = signalingResuming ? `${text} · reconnecting to the server…` : text;
}

/**
 * What the page's link gives for this stream's connections: `token` goes to the stream's
 * WebSocket and nowhere else (no other request, no displayed link). Empty means none.
 */
function clientOptions() {
  // `&heartbeat=<seconds>` (1 to 60) finds a silent connection sooner; tests use it.
  const heartbeat = Number(params.get('heartbeat'));
  const heartbeatMs = heartbeat >= 1 && heartbeat <= 60 ? heartbeat * 1000 : 25_000;
  return { heartbeatMs, token: params.get('token') || undefined };
}

/**
 * Refusals a person can act on: a title, then the server's own sentence, then what to do.
 * Keyed by the server's error code (docs/PROTOCOL.md).
 * @type {Record<string, [string, string | ((mode: string) => string)]>}
 */
const REFUSALS = {
  'token-missing': ['This stream needs a token', 'Ask whoever shared the stream for a link that includes one.'],
  'token-expired': ['The token in this link has expired', 'Ask whoever shared the stream for a new link.'],
  'token-malformed': ['The token in this link is damaged', 'Copy the whole link again, or ask for a new one.'],
  'token-bad-signature': ['The token in this link is not valid here', 'Ask whoever shared the stream for a new link.'],
  'token-wrong-path': ['The token in this link is for another stream', 'Ask for a link made for this stream.'],
  'token-wrong-mode': [
    'The token in this link does not allow this',
    (mode) => (mode === 'publish' ? 'It lets you watch, not publish: ask for a publisher link.' : 'It is for publishing: ask for a viewer link.'),
  ],
  'hash-path-publish': ['This is a viewer link', 'Open it with ?subscribe= to watch, or start a new stream.'],
  'origin-not-allowed': ['This server does not accept connections from this site', 'Open the stream from the site its operator gave you.'],
  'host-not-allowed': ['This server does not serve this address', 'Use the address its operator gave you.'],
  'path-not-allowed': ['This server does not serve this stream', 'Check the link you were given.'],
  'invalid-path': ['This link does not name a stream', 'Check the link you were given, or ask for a new one.'],
  'path-too-long': ['This stream name is too long', 'Use a shorter name.'],
};

/** `"token-expired: the token has expired"` → `"The token has expired."` */
function sentenceOf(reason) {
  const text = String(reason ?? '').replace(/^[a-z-]+: /, '');
  return text ? `${text[0].toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}` : '';
}

/**
 * Keeps the status line true to the connection, and turns a refusal the page cannot retry into
 * a message saying why and what to do. `onRefused` runs once then (e.g. to stop the camera).
 * While the client resumes, the session's status stays (media does not go through the server)
 * and the line says signaling is reconnecting; `onFreshJoin` resets the view when the old id is
 * gone. `body[data-signaling]` is the client's state, for tests.
 */
function watchConnection(client, mode, { onRefused = () => {}, onFreshJoin = () => {} } = {}) {
  /** The error frame that came just before a close, if any: the refusal's reason. */
  let refusal = null;
  client.on('created', () => {
    refusal = null;
  });
  client.on('state', ({ state }) => {
    document.body.dataset.signaling = state;
    const resuming = state === 'resuming';
    if (resuming !== signalingResuming) {
      signalingResuming = resuming;
      setStatus(debug.status, statusText);
    }
    if (state === 'fresh-join') onFreshJoin();
  });
  // An error frame is shown only if a close follows (a refusal); errors about single frames
  // (a rate limit, say) and the notice before a resumable close leave the session as it is.
  client.on('error', (error) => {
    refusal = error;
  });
  client.on('close', ({ code, reason, willReconnect, resuming }) => {
    const why = refusal ?? (reason ? { code: reason, reason } : null);
    refusal = null;
    if (!willReconnect && isPermanentRefusal(code)) {
      const [title, advice] = REFUSALS[why?.code] ?? ['The server refused this connection', 'Check the link, or ask for a new one.'];
      document.body.dataset.refusal = why?.code ?? String(code);
      setStatus('refused', title);
      showProblem(title, sentenceOf(why?.reason), typeof advice === 'function' ? advice(mode) : advice);
      onRefused();
    } else if (willReconnect && !resuming) {
      setStatus('reconnecting', why ? `${sentenceOf(why.reason)} Trying again…` : 'Reconnecting…');
    } else if (code === CLOSE.REPLACED) {
      setStatus('error', 'This stream was opened again in another tab or window; this one stopped.');
    } else if (!willReconnect) {
      setStatus('error', `Disconnected ${reason}`);
    }
  });
}

/** Test and power-user overrides: `?ice=none` uses no ICE servers, `?relay=1` forces TURN. */
function configurationOverrides() {
  const conf = {};
  if (params.get('ice') === 'none') conf.iceServers = [];
  if (params.get('relay') === '1') conf.iceTransportPolicy = 'relay';
  return conf;
}

/** Shows why the page cannot go on, in place of any stream view. */
function showProblem(title, text, advice) {
  setView('problem');
  $('problem-title').textContent = title;
  $('problem-text').textContent = text;
  $('problem-advice').textContent = advice;
}

/**
 * The stream named by `?publish=` or `?subscribe=`, normalized by the rules the server applies;
 * null, after saying why, when it is not a stream path. Nothing connects before this check, so
 * a link cannot send the page (or its camera's offer) to another host.
 */
function streamPathParam(name) {
  try {
    return normalizePath(params.get(name));
  } catch (err) {
    if (!(err instanceof StreamPathError)) throw err;
    document.body.dataset.refusal = err.code;
    setStatus('refused', 'Not a stream link');
    showProblem('This link does not name a stream', err.sentence, 'Check the link you were given, or ask for a new one.');
    return null;
  }
}

/**
 * What the watch form was given: a stream path, or a link shared from this site (whose stream
 * is taken). Links to other sites are refused, not followed.
 * @returns {string} the normalized stream path
 */
function pathFromForm(text) {
  const trimmed = text.trim();
  if (!/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) return normalizePath(trimmed);
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    throw new StreamPathError('invalid-path', 'That is neither a stream path nor a link.');
  }
  if (url.origin !== location.origin) {
    throw new StreamPathError('invalid-path', `That link is for another site; paste a link from ${location.host} or a stream path.`);
  }
  const named = url.searchParams.get('subscribe') ?? url.searchParams.get('publish');
  if (named === null) throw new StreamPathError('invalid-path', 'That link names no stream.');
  return normalizePath(named);
}

async function publish(path) {
  setView('publisher');
  setStatus('starting', 'Starting camera…');
  let local;
  try {
    local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  } catch (err) {
    setStatus('error', `No camera or microphone: ${err.message}`);
    return;
  }
  $('preview').srcObject = local;
  const client = connect(path, 'publish', clientOptions());
  debug.client = client;
  // On the SFU, viewers are counted from the server's events: no mesh connection stands for them.
  const viewerIds = new Set();
  client.on('subscribed', ({ id }) => viewerIds.add(id));
  client.on('unsubscribed', ({ id }) => viewerIds.delete(id));
  client.on('created', () => viewerIds.clear());
  const sfu = createSfu({
    signaling: client,
    localStream: local,
    configuration: configurationOverrides(),
    onPeerMoved: (id) => {
      dropMeshPeer(mesh, id);
      updateCount();
    },
  });
  debug.sfu = sfu;
  const mesh = createMesh({
    signaling: sfu.meshSignaling(),
    localStream: local,
    configuration: configurationOverrides(),
    onState: () => updateCount(),
  });
  debug.mesh = mesh;
  const updateCount = () => {
    const n = sfu.active ? viewerIds.size : mesh.peers.size;
    $('publisher-count').textContent = `${n} viewer${n === 1 ? '' : 's'}`;
    document.body.dataset.viewers = String(n);
  };
  client.on('created', () => setStatus('live', 'Live: waiting for viewers'));
  client.on('subscribed', updateCount);
  client.on('unsubscribed', () => queueMicrotask(updateCount));
  watchConnection(client, 'publish', {
    onRefused: () => {
      for (const track of local.getTracks()) track.stop();
    },
    onFreshJoin: () => queueMicrotask(updateCount),
  });
  await showShareLinks(path);
  wireControls(local, {
    replaceTrack: (track, kind) => Promise.all([mesh.replaceTrack(track, kind), sfu.replaceTrack(track, kind)]),
  });
}

/** Closes the mesh connection to one peer (it plays from the SFU now). */
function dropMeshPeer(mesh, id) {
  mesh.peers.get(id)?.close();
  mesh.peers.delete(id);
}

/**
 * The link viewers open. Publishing on `/sha256/<name>` (or `/sha1/<name>`) is heard on the hash
 * of "/<name>", so a hash link lets people watch without letting them publish. The publisher's
 * own token never goes into it; a viewer token does, when the link to this page gave one
 * (`&viewer_token=`), as the viewers' `token`.
 */
async function showShareLinks(path) {
  const viewerToken = params.get('viewer_token');
  const link = (p) => {
    const query = new URLSearchParams({ subscribe: p });
    if (viewerToken) query.set('token', viewerToken);
    return `${location.origin}/?${query}`;
  };
  const hashed = /^\/(sha1|sha256)(\/.+)$/.exec(path);
  const note = $('share-note');
  if (hashed) {
    $('share-link').value = link(await hashPath(hashed[1], hashed[2]));
    note.textContent = `Private link: it names the stream by the ${hashed[1].toUpperCase()} hash of its name, so viewers cannot publish on it.`;
  } else {
    $('share-link').value = link(path);
    note.textContent = 'Anyone with this link could also publish here once you leave. ';
    const safer = document.createElement('a');
    safer.href = `/?publish=${encodeURIComponent(`/sha256${path}`)}`;
    safer.textContent = 'Publish with a private link instead';
    note.append(safer);
  }
}

/** @param {{ replaceTrack: (track: MediaStreamTrack, kind: string) => Promise<unknown> }} mesh every connection that sends */
function wireControls(local, mesh) {
  const [audio] = local.getAudioTracks();
  const [camera] = local.getVideoTracks();
  const toggle = (button, on, label) => {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = label;
  };
  $('mute').onclick = () => {
    audio.enabled = !audio.enabled;
    toggle($('mute'), !audio.enabled, audio.enabled ? 'Mute' : 'Unmute');
  };
  $('camera').onclick = () => {
    camera.enabled = !camera.enabled;
    toggle($('camera'), !camera.enabled, camera.enabled ? 'Camera off' : 'Camera on');
  };
  let screen = null;
  $('screen').onclick = async () => {
    if (screen) {
      screen.stop();
      screen = null;
      await mesh.replaceTrack(camera, 'video');
      $('preview').srcObject = local;
      toggle($('screen'), false, 'Share screen');
      return;
    }
    try {
      const display = await navigator.mediaDevices.getDisplayMedia({ video: true });
      [screen] = display.getVideoTracks();
      screen.onended = () => screen && $('screen').click();
      await mesh.replaceTrack(screen, 'video');
      $('preview').srcObject = new MediaStream([screen, audio]);
      toggle($('screen'), true, 'Stop sharing');
    } catch {
      // The user cancelled the picker.
    }
  };
}

/**
 * Tells a viewer who arrives before the publisher that the stream has not started, from the
 * status API, while the connection is made beside it. `body[data-stream]` keeps the answer.
 * The page's token is for the stream's connection only, so where subscribers need a token the
 * status is refused and the page says what it always said.
 */
let waitingText = 'Waiting for the publisher…';
async function showStreamStatus(path) {
  const answer = await fetchStreamStatus(path);
  document.body.dataset.stream = answer.ok ? (answer.status.live ? 'live' : 'not-live') : 'unknown';
  if (answer.ok && !answer.status.live) waitingText = 'Waiting for the publisher: nobody is publishing on this stream yet.';
  // The stream's own events are newer than the answer: a publisher may have come meanwhile.
  if (debug.status === 'waiting') setStatus('waiting', answer.ok && answer.status.live ? 'The publisher is live; connecting…' : waitingText);
}

function subscribe(path) {
  setView('subscriber');
  setStatus('waiting', 'Checking the stream…');
  showStreamStatus(path);
  const video = $('remote');
  const client = connect(path, 'subscribe', clientOptions());
  debug.client = client;
  const show = (stream) => {
    // ontrack fires once per track of the same stream; reassigning would restart playback.
    if (video.srcObject === stream) return;
    video.srcObject = stream;
    video.play().catch((err) => {
      // Autoplay with sound was blocked: one tap starts it.
      if (err.name === 'NotAllowedError') $('play').hidden = false;
    });
  };
  const onState = (state) => {
    if (state === 'connected') setStatus('live', 'Live');
    else if (state === 'connecting' || state === 'new') setStatus('connecting', 'Connecting…');
    else if (state === 'failed' || state === 'disconnected') setStatus('connecting', 'Connection interrupted, retrying…');
  };
  // SFU mode: the SFU's stream replaces the mesh's once it plays, then the mesh connection goes.
  const sfu = createSfu({
    signaling: client,
    configuration: configurationOverrides(),
    onStream: show,
    onMoved: () => {
      for (const id of [...mesh.peers.keys()]) dropMeshPeer(mesh, id);
    },
    onState,
  });
  debug.sfu = sfu;
  const mesh = createMesh({
    signaling: client,
    configuration: configurationOverrides(),
    onStream: (_, stream) => {
      if (!sfu.state.moved) show(stream);
    },
    onState: (_, state) => {
      if (!sfu.state.moved) onState(state);
    },
  });
  debug.mesh = mesh;
  $('play').onclick = () => video.play();
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

/** A small overlay: bitrate, resolution and round-trip time of the incoming video. */
function startStats(mesh, sfu) {
  let last = null;
  setInterval(async () => {
    const pc = sfu.state.moved ? sfu.pc : mesh.peers.values().next().value?.pc;
    if (!pc) {
      $('stats').hidden = true;
      return;
    }
    const report = await pc.getStats();
    let video;
    let pair;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') video = s;
      if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s;
    });
    if (!video) return;
    const kbps = last ? ((video.bytesReceived - last.bytes) * 8) / (video.timestamp - last.time) : 0;
    last = { bytes: video.bytesReceived, time: video.timestamp };
    const rtt = pair?.currentRoundTripTime !== undefined ? `${Math.round(pair.currentRoundTripTime * 1000)} ms` : '–';
    $('stats').textContent = `${Math.round(kbps)} kbit/s · ${video.frameWidth ?? 0}×${video.frameHeight ?? 0} · RTT ${rtt}`;
    $('stats').hidden = false;
  }, 1000);
}

function landing() {
  setView('landing');
  setStatus('idle', '');
  $('create').onclick = () => {
    // New streams are private by default: viewers get the hash link.
    const name = `/sha256/streams/${crypto.randomUUID().slice(0, 8)}`;
    location.search = `?publish=${encodeURIComponent(name)}`;
  };
  $('join').onsubmit = (e) => {
    e.preventDefault();
    try {
      const path = pathFromForm($('join-path').value);
      location.search = `?subscribe=${encodeURIComponent(path)}`;
    } catch (err) {
      if (!(err instanceof StreamPathError)) throw err;
      $('join-error').textContent = err.sentence;
    }
  };
  $('join-path').oninput = () => {
    $('join-error').textContent = '';
  };
  // Whether a pasted stream is live, before joining it.
  $('check').onclick = async () => {
    const note = $('join-status');
    note.textContent = 'Checking…';
    let path;
    try {
      path = pathFromForm($('join-path').value);
    } catch (err) {
      if (!(err instanceof StreamPathError)) throw err;
      // Not a stream here: the page says why, and asks nobody.
      note.dataset.answer = err.code;
      note.textContent = err.sentence;
      return;
    }
    const answer = await fetchStreamStatus(path);
    note.dataset.answer = answer.ok ? (answer.status.live ? 'live' : 'not-live') : answer.code;
    note.textContent = describeStatus(answer);
  };
}

// rtclite's URL convention: ?publish=<path> and ?subscribe=<path>.
if (params.has('publish')) {
  const path = streamPathParam('publish');
  if (path) publish(path);
} else if (params.has('subscribe')) {
  const path = streamPathParam('subscribe');
  if (path) subscribe(path);
} else {
  landing();
}
