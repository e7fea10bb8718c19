// `?room=/rooms/<name>`: a conference built from named streams. Each participant publishes its
// camera on a stream of its own directly under the room (a random name), watches the room
// (docs/PROTOCOL.md, "Rooms") and subscribes to every other participant's stream while it is
// live: tiles come and go as people join and leave.
import { connect, StreamPathError, watchRoom } from '../streams-client.js';
import { createMesh } from '../peer.js';
import { basePath, isParticipant, participantPath } from './room-paths.js';
import { createRoomView, refuseLink, startCamera, wireRoomControls } from './room-view.js';
import { publishOwn } from './own-stream.js';
import { MESSAGE_CODES, refusalMessage } from './messages.js';

/** Tries at a free name before giving up (a clash of 8 random hex digits is already rare). */
const NAME_TRIES = 3;

/**
 * Every participant encodes its camera once per other participant (a mesh, no server in the
 * media path), so a conference asks for less than a call: a handful of people stay within
 * what one laptop can encode and upload.
 */
const MESH_VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 15 } };


/**
 * @typedef {object} Participant
 * @property {string} id the publisher's id, as the room named it
 * @property {import('../streams-client.js').StreamClient} client subscribed to its stream
 * @property {ReturnType<typeof createMesh>} mesh receives its media
 */

/**
 * Joins the conference named by the page's link (already normalized by the page).
 * @param {string} link
 * @param {import('./room-view.js').PageKit} ui
 */
export async function start(link, ui) {
  /** @type {string} */
  let room;
  try {
    room = basePath(link);
  } catch (err) {
    if (!(err instanceof StreamPathError)) throw err;
    refuseLink(ui, err);
    return;
  }
  const view = createRoomView('conference', `${location.origin}/?room=${encodeURIComponent(room)}`);
  ui.setView('room');
  ui.setStatus('joining', 'Joining the conference…');

  /** State the tests read: `window.namedStreams.conference`. */
  const state = {
    room,
    /** @type {string | null} the stream this participant publishes on (or is trying to) */
    mine: null,
    /** @type {import('./own-stream.js').OwnStream | null} */
    own: null,
    /** @type {Map<string, Participant>} the others, by stream path */
    participants: new Map(),
    /** @type {ReturnType<typeof watchRoom> | null} */
    watcher: null,
  };
  ui.debug.conference = state;
  let ended = false;

  /** @param {string} path */
  const label = (path) => {
    const name = path.slice(room.length + 1);
    try {
      return decodeURIComponent(name);
    } catch {
      return name;
    }
  };

  function updateStatus() {
    if (ended || !state.own) return;
    const connected = [...state.participants.values()].filter((p) => [...p.mesh.peers.values()].some((peer) => peer.pc.connectionState === 'connected')).length;
    if (connected > 0) ui.setStatus('live', `In a conference with ${connected} other${connected === 1 ? '' : 's'}`);
    else if (state.participants.size > 0) ui.setStatus('connecting', 'Connecting…');
    else ui.setStatus('waiting', 'Waiting for others to join…');
  }

  /**
   * Subscribes to a participant's stream: its media goes on its tile.
   * @param {string} path
   * @param {string} id its publisher's id
   */
  function add(path, id) {
    if (ended || path === state.mine || !isParticipant(room, path)) return;
    const known = state.participants.get(path);
    if (known) {
      known.id = id;
      return;
    }
    const client = connect(path, 'subscribe', ui.clientOptions());
    const mesh = createMesh({
      signaling: client,
      configuration: ui.configurationOverrides(),
      onStream: (_, stream) => view.attach(path, label(path), stream),
      onState: () => queueMicrotask(updateStatus),
    });
    client.on('close', ({ willReconnect, reason }) => {
      if (!willReconnect && !client.closedByUser) view.show(path, `${label(path)}: cannot receive (${reason || 'refused'})`);
    });
    state.participants.set(path, { id, client, mesh });
    view.show(path, label(path));
    updateStatus();
  }

  /** @param {string} path */
  function remove(path) {
    const participant = state.participants.get(path);
    if (!participant) return;
    participant.client.close();
    participant.mesh.close();
    state.participants.delete(path);
    view.remove(path);
    updateStatus();
  }

  /**
   * Makes the tiles what the room says is live: after each (re)connect of the watch.
   * @param {import('../room-client.js').RoomStream[]} streams
   */
  function reconcile(streams) {
    const live = new Map(streams.map((s) => [s.path, s.id]));
    for (const path of [...state.participants.keys()]) if (!live.has(path)) remove(path);
    for (const [path, id] of live) add(path, id);
  }

  function leave() {
    ended = true;
    state.watcher?.close();
    for (const path of [...state.participants.keys()]) remove(path);
    state.own?.client.close();
    state.own?.mesh.close();
  }

  // Watch first: a path that is no room here is refused before the camera is asked for.
  const watcher = watchRoom(room, { token: ui.clientOptions().token });
  state.watcher = watcher;
  watcher.on('live', ({ path, id }) => add(path, id));
  watcher.on('ended', ({ path, id }) => {
    if (state.participants.get(path)?.id === id) remove(path);
  });
  /** @type {Promise<boolean>} whether the room is watched (false: refused, and said so) */
  const watching = new Promise((resolve) => {
    watcher.on('streams', ({ streams }) => {
      delete document.body.dataset.refusal;
      reconcile(streams);
      resolve(true);
    });
    /** @type {{ code: string, message: string } | null} */
    let refusal = null;
    watcher.on('error', (detail) => {
      refusal = detail;
    });
    watcher.on('close', (detail) => {
      if (ended) return;
      if (detail.willReconnect) {
        // A refusal the watcher retries (a full room): say what it is while it does.
        if (refusal && MESSAGE_CODES.includes(refusal.code)) {
          const { title, advice } = refusalMessage(refusal.code, 'subscribe');
          document.body.dataset.refusal = refusal.code;
          ui.setStatus('reconnecting', `${title}. ${advice}`);
        }
        refusal = null;
        return;
      }
      leave();
      const code = refusal?.code ?? String(detail.code);
      // The watch follows the rules of subscribing under the room: its refusals are the page's.
      const { title, advice } = MESSAGE_CODES.includes(code)
        ? refusalMessage(code, 'subscribe')
        : { title: 'The server refused to show who is in this conference', advice: 'Check the link, or ask for a new one.' };
      document.body.dataset.refusal = code;
      ui.setStatus('refused', title);
      ui.showProblem(title, refusal?.message ?? '', advice);
      resolve(false);
    });
  });
  if (!(await watching)) return;

  const camera = await startCamera(ui, view, MESH_VIDEO);
  if (!camera || ended) {
    leave();
    return;
  }
  // Named again once known to be there: the functions below are hoisted above the check.
  const local = camera;
  wireRoomControls(local, leave);

  /** Publishes under a fresh name; again under another if it was taken (now or later). */
  async function publishMine() {
    for (let i = 0; i < NAME_TRIES && !ended; i++) {
      const path = participantPath(room);
      state.mine = path;
      const own = await publishOwn(path, local, ui, { onTaken: republish });
      if (own.outcome === 'refused') {
        leave();
        return;
      }
      if (own.outcome === 'published') {
        state.own = own;
        updateStatus();
        return;
      }
    }
    if (!ended) ui.setStatus('error', 'Could not find a free name in this conference; try again.');
  }

  /** Somebody else has our name now (we were away too long): it is theirs, and we take another. */
  function republish() {
    state.own = null;
    state.mine = null;
    reconcile([...watcher.live].map(([path, id]) => ({ path, id })));
    publishMine();
  }

  await publishMine();
  // Events about the name we tried were ignored while it might have been ours.
  reconcile([...watcher.live].map(([path, id]) => ({ path, id })));
}
