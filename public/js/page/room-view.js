// The view calls and conferences share: a grid of video tiles (yours first), mute and camera
// buttons as in the publisher view, a Leave button and the link to share. No signaling here.

/**
 * What main.js lends the call and conference modules (page/common.js's helpers), so they show
 * status and refusals the way the rest of the page does.
 * @typedef {object} PageKit
 * @property {typeof import('./common.js').setView} setView
 * @property {typeof import('./common.js').setStatus} setStatus
 * @property {typeof import('./common.js').showProblem} showProblem
 * @property {typeof import('./common.js').watchConnection} watchConnection
 * @property {typeof import('./common.js').clientOptions} clientOptions
 * @property {typeof import('./common.js').configurationOverrides} configurationOverrides
 * @property {Record<string, unknown>} debug state the tests read (`window.namedStreams`)
 */

import { $ } from './common.js';

/** Numbers the tiles' captions, for ids that stay unique as tiles come and go. */
let captions = 0;

/**
 * A tile per participant, keyed by whatever the caller uses (a stream path).
 * @param {'call' | 'conference'} mode
 * @param {string} link the page's own link to this call or room, shown to be shared
 */
export function createRoomView(mode, link) {
  document.body.dataset.mode = mode;
  const grid = $('tiles');
  /** @type {Map<string, { tile: HTMLElement, video: HTMLVideoElement }>} */
  const tiles = new Map();
  const linkInput = /** @type {HTMLInputElement} */ ($('room-link'));
  linkInput.value = link;
  $('room-link-label').textContent = mode === 'call' ? 'Link to this call (for one other person)' : 'Link to this conference';
  $('room-title').textContent = mode === 'call' ? 'Call' : 'Conference';

  const count = () => {
    document.body.dataset.participants = String(tiles.size - (tiles.has('') ? 1 : 0));
  };

  /**
   * Adds (or relabels) the tile of `key`; '' is yours.
   * @param {string} key
   * @param {string} label
   */
  function show(key, label) {
    let entry = tiles.get(key);
    if (!entry) {
      const tile = document.createElement('figure');
      tile.className = 'tile';
      tile.dataset.peer = key;
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      if (key === '') video.muted = true;
      const caption = document.createElement('figcaption');
      // Screen readers name the video by its caption (the person's name, or "You").
      caption.id = `tile-caption-${++captions}`;
      video.setAttribute('aria-labelledby', caption.id);
      tile.append(video, caption);
      if (key === '') grid.prepend(tile);
      else grid.append(tile);
      entry = { tile, video };
      tiles.set(key, entry);
      count();
    }
    // textContent: a name from the server or a link is text, never markup.
    /** @type {HTMLElement} */ (entry.tile.querySelector('figcaption')).textContent = label;
    return entry;
  }

  return {
    tiles,
    show,
    /**
     * Puts `stream` on the tile of `key` (once per stream: ontrack fires once per track).
     * @param {string} key
     * @param {string} label
     * @param {MediaStream} stream
     */
    attach(key, label, stream) {
      const { video } = show(key, label);
      if (video.srcObject === stream) return;
      video.srcObject = stream;
      // A page that captures the camera may autoplay with sound; anything else is no worse muted.
      video.play().catch(() => {
        video.muted = true;
        video.play().catch(() => {});
      });
    },
    /**
     * Empties the tile of `key` but keeps it (the other side of a call left, may come back).
     * @param {string} key
     */
    detach(key) {
      const entry = tiles.get(key);
      if (entry) entry.video.srcObject = null;
    },
    /** @param {string} key */
    remove(key) {
      tiles.get(key)?.tile.remove();
      tiles.delete(key);
      count();
    },
  };
}

/**
 * Asks for the camera and microphone and shows them on your tile. Null, after saying why, when
 * there are none or permission was refused.
 * @param {PageKit} ui
 * @param {ReturnType<typeof createRoomView>} view
 * @param {boolean | MediaTrackConstraints} [video] what to ask of the camera
 */
export async function startCamera(ui, view, video = true) {
  ui.setView('room');
  ui.setStatus('starting', 'Starting camera…');
  try {
    const local = await navigator.mediaDevices.getUserMedia({ video, audio: true });
    view.attach('', 'You', local);
    return local;
  } catch (err) {
    ui.setStatus('error', `No camera or microphone: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

/**
 * Mute and camera buttons, as the publisher view has them: they switch the tracks themselves, so
 * every peer connection sending them follows. Leave closes every connection, then goes home.
 * @param {MediaStream} local
 * @param {() => void} leave
 */
export function wireRoomControls(local, leave) {
  const [audio] = local.getAudioTracks();
  const [camera] = local.getVideoTracks();
  /** @type {(button: HTMLElement, on: boolean, label: string) => void} */
  const toggle = (button, on, label) => {
    button.setAttribute('aria-pressed', String(on));
    button.textContent = label;
  };
  $('room-mute').onclick = () => {
    if (!audio) return;
    audio.enabled = !audio.enabled;
    toggle($('room-mute'), !audio.enabled, audio.enabled ? 'Mute' : 'Unmute');
  };
  $('room-camera').onclick = () => {
    if (!camera) return;
    camera.enabled = !camera.enabled;
    toggle($('room-camera'), !camera.enabled, camera.enabled ? 'Camera off' : 'Camera on');
  };
  $('room-leave').onclick = () => {
    leave();
    for (const track of local.getTracks()) track.stop();
    location.href = '/';
  };
}

/**
 * Shows why a call or room link cannot be used.
 * @param {PageKit} ui
 * @param {{ code: string, sentence: string }} err
 */
export function refuseLink(ui, err) {
  document.body.dataset.refusal = err.code;
  ui.setStatus('refused', 'Not a call or conference link');
  ui.showProblem('This link does not name a call or conference', err.sentence, 'Check the link you were given, or ask for a new one.');
}
