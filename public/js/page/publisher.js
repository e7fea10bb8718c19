// The publisher view: camera preview, controls, viewer count, and the link to share.
import { connect, hashPath } from '../streams-client.js';
import { createMesh } from '../peer.js';
import { $, clientOptions, configurationOverrides, debug, params, report, setStatus, setView, watchConnection } from './common.js';
import { copyLink, drawQr } from './share.js';

/** @param {string} path the normalized stream path */
export async function publish(path) {
  setView('publisher');
  setStatus('starting', 'Starting camera…');
  /** @type {MediaStream} */
  let local;
  try {
    local = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  } catch (err) {
    setStatus('error', `No camera or microphone: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  const preview = /** @type {HTMLVideoElement} */ ($('preview'));
  preview.srcObject = local;
  const client = connect(path, 'publish', clientOptions());
  debug.client = client;
  let live = false;
  const mesh = createMesh({
    signaling: client,
    localStream: local,
    configuration: configurationOverrides(),
    onState: () => updateCount(),
    onError: report,
  });
  debug.mesh = mesh;
  // The overlay and the status line say the same number: both come from here.
  const updateCount = () => {
    const n = mesh.peers.size;
    const count = `${n} viewer${n === 1 ? '' : 's'}`;
    $('publisher-count').textContent = count;
    document.body.dataset.viewers = String(n);
    if (live) setStatus('live', n === 0 ? 'Live: waiting for viewers' : `Live: ${count}`);
  };
  client.on('created', () => {
    live = true;
    updateCount();
  });
  client.on('subscribed', updateCount);
  client.on('unsubscribed', () => queueMicrotask(updateCount));
  watchConnection(client, 'publish', {
    onRefused: () => {
      live = false;
      for (const track of local.getTracks()) track.stop();
    },
    onRetrying: () => {
      live = false;
    },
    onFreshJoin: () => queueMicrotask(updateCount),
  });
  wireControls(local, mesh);
  await showShareLinks(path);
}

/**
 * The link viewers open. Publishing on `/sha256/<name>` (or `/sha1/<name>`) is heard on the hash
 * of "/<name>", so a hash link lets people watch without letting them publish. The publisher's
 * own token never goes into it; a viewer token does, when the link to this page gave one
 * (`&viewer_token=`), as the viewers' `token`.
 * @param {string} path
 */
async function showShareLinks(path) {
  const viewerToken = params.get('viewer_token');
  /** @param {string} p */
  const link = (p) => {
    const query = new URLSearchParams({ subscribe: p });
    if (viewerToken) query.set('token', viewerToken);
    return `${location.origin}/?${query}`;
  };
  const hashed = /^\/(sha1|sha256)(\/.+)$/.exec(path);
  const note = $('share-note');
  const input = /** @type {HTMLInputElement} */ ($('share-link'));
  $('copy').onclick = () => {
    copyLink(input, $('copy-status')).catch(report);
  };
  if (hashed) {
    const algorithm = hashed[1] === 'sha1' ? 'sha1' : 'sha256';
    input.value = link(await hashPath(algorithm, hashed[2]));
    note.textContent = `Private link: it names the stream by the ${algorithm.toUpperCase()} hash of its name, so viewers cannot publish on it.`;
  } else {
    input.value = link(path);
    note.textContent = 'Anyone with this link could also publish here once you leave. ';
    const safer = document.createElement('a');
    safer.href = `/?publish=${encodeURIComponent(`/sha256${path}`)}`;
    safer.textContent = 'Publish with a private link instead';
    note.append(safer);
  }
  drawQr($('share-qr'), input.value, 'QR code of the viewer link');
}

/**
 * @param {MediaStream} local
 * @param {import('../peer.js').Mesh} mesh
 */
function wireControls(local, mesh) {
  const [audio] = local.getAudioTracks();
  const [camera] = local.getVideoTracks();
  const preview = /** @type {HTMLVideoElement} */ ($('preview'));
  /**
   * @param {HTMLElement} button
   * @param {boolean} on
   * @param {string} label
   */
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
  /** @type {MediaStreamTrack | null} */
  let screen = null;
  const shareScreen = async () => {
    if (screen) {
      screen.stop();
      screen = null;
      await mesh.replaceTrack(camera, 'video');
      preview.srcObject = local;
      toggle($('screen'), false, 'Share screen');
      return;
    }
    let display;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true });
    } catch {
      return; // The user cancelled the picker.
    }
    [screen] = display.getVideoTracks();
    screen.onended = () => {
      if (screen) $('screen').click();
    };
    await mesh.replaceTrack(screen, 'video');
    preview.srcObject = new MediaStream([screen, audio]);
    toggle($('screen'), true, 'Stop sharing');
  };
  $('screen').onclick = () => {
    shareScreen().catch(report);
  };
}
