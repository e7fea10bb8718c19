// `?call=/calls/<name>`: a two-party call built from two named streams. Each side publishes its
// camera on one of `<name>/1` and `<name>/2` (whichever the single-publisher rule gives it,
// `/1` first) and subscribes to the other. A third person finds both taken: the call is full.
import { connect, StreamPathError } from '../streams-client.js';
import { createMesh } from '../peer.js';
import { basePath, callSlots, otherSlot } from './room-paths.js';
import { createRoomView, refuseLink, startCamera, wireRoomControls } from './room-view.js';
import { publishOwn } from './own-stream.js';

const OTHER = 'other';

/**
 * Starts the call named by the page's link (already normalized by the page).
 * @param {string} link
 * @param {import('./room-view.js').PageKit} ui
 */
export async function start(link, ui) {
  /** @type {string} */
  let call;
  try {
    call = basePath(link);
  } catch (err) {
    if (!(err instanceof StreamPathError)) throw err;
    refuseLink(ui, err);
    return;
  }
  const view = createRoomView('call', `${location.origin}/?call=${encodeURIComponent(call)}`);
  const camera = await startCamera(ui, view);
  if (!camera) return;
  // Named again once known to be there: the functions below are hoisted above the check.
  const local = camera;

  /** State the tests read: `window.namedStreams.call`. */
  const state = {
    path: call,
    /** @type {string | null} the stream this side publishes on */
    mine: null,
    /** @type {import('./own-stream.js').OwnStream | null} */
    own: null,
    /** @type {ReturnType<typeof createMesh> | null} receives the other side's stream */
    receive: null,
    /** @type {import('../streams-client.js').StreamClient | null} */
    other: null,
  };
  ui.debug.call = state;

  function hangUp() {
    state.other?.close();
    state.receive?.close();
    state.own?.client.close();
    state.own?.mesh.close();
  }
  wireRoomControls(local, hangUp);

  async function join() {
    ui.setStatus('joining', 'Joining the call…');
    for (const slot of callSlots(call)) {
      const own = await publishOwn(slot, local, ui, { onTaken: rejoin });
      if (own.outcome === 'refused') return;
      if (own.outcome === 'published') {
        state.own = own;
        state.mine = slot;
        listenTo(otherSlot(call, slot));
        return;
      }
    }
    for (const track of local.getTracks()) track.stop();
    ui.setStatus('full', 'This call is full');
    ui.showProblem('This call is full', 'Two people are already in this call.', 'Start a new call, or ask them for a link to another one.');
  }

  /** Our stream went to somebody else while we were away: start over, as a newcomer would. */
  function rejoin() {
    state.other?.close();
    state.receive?.close();
    state.own = null;
    state.mine = null;
    view.detach(OTHER);
    join();
  }

  /** @param {string} path the other side's stream */
  function listenTo(path) {
    ui.setStatus('waiting', 'Waiting for the other person to join…');
    const client = connect(path, 'subscribe', ui.clientOptions());
    state.other = client;
    view.show(OTHER, 'Waiting for the other person…');
    state.receive = createMesh({
      signaling: client,
      configuration: ui.configurationOverrides(),
      onStream: (_, stream) => view.attach(OTHER, 'The other person', stream),
      onState: (_, pcState) => {
        if (pcState === 'connected') ui.setStatus('live', 'In a call');
        else if (pcState === 'failed' || pcState === 'disconnected') ui.setStatus('connecting', 'Connection interrupted, retrying…');
      },
    });
    client.on('published', () => ui.setStatus('connecting', 'Connecting…'));
    client.on('unpublished', () => {
      view.detach(OTHER);
      view.show(OTHER, 'The other person left');
      ui.setStatus('waiting', 'The other person left; waiting for them to come back…');
    });
    client.on('close', ({ willReconnect, code }) => {
      if (!willReconnect && !client.closedByUser) ui.setStatus('error', `Lost the other person's stream (${code})`);
    });
  }

  await join();
}
