// Publishing your own stream in a call or a conference. The server's single-publisher rule is
// the arbiter: a path somebody already publishes on is refused (`publisher-exists`), and the
// caller tries another. Nothing is asked first, so two people arriving at once cannot both win.
import { connect } from '../streams-client.js';
import { createMesh } from '../peer.js';

/**
 * @typedef {object} OwnStream
 * @property {'published' | 'taken' | 'refused'} outcome `taken`: somebody else publishes there
 *   (all is closed again); `refused`: a refusal retrying cannot fix, which the page has shown
 * @property {string} path
 * @property {import('../streams-client.js').StreamClient} client
 * @property {ReturnType<typeof createMesh>} mesh sends `local` to everyone subscribed to `path`
 */

/**
 * Publishes `local` on `path`. Resolves once the server said yes or no. Should the path be taken
 * later (the resume failed and somebody else published meanwhile), `onTaken` runs once and
 * everything here is closed.
 * @param {string} path
 * @param {MediaStream} local
 * @param {import('./room-view.js').PageKit} ui
 * @param {{ onTaken?: () => void, onSubscribers?: (n: number) => void }} [hooks]
 * @returns {Promise<OwnStream>}
 */
export function publishOwn(path, local, ui, { onTaken = () => {}, onSubscribers = () => {} } = {}) {
  const client = connect(path, 'publish', ui.clientOptions());
  // Made at once, so no `subscribed` can arrive before the mesh listens.
  const mesh = createMesh({
    signaling: client,
    localStream: local,
    configuration: ui.configurationOverrides(),
    onState: () => queueMicrotask(() => onSubscribers(mesh.peers.size)),
  });
  let settled = false;
  let taken = false;
  return new Promise((resolve) => {
    /** @param {OwnStream['outcome']} outcome */
    const settle = (outcome) => {
      if (settled) return;
      settled = true;
      resolve({ outcome, path, client, mesh });
    };
    client.on('error', ({ code }) => {
      if (code !== 'publisher-exists' || taken) return;
      taken = true;
      mesh.close();
      client.close();
      if (settled) onTaken();
      settle('taken');
    });
    // Registered before the page's own listeners (watchConnection), so that the close we asked
    // for after `publisher-exists` is not reported as a lost connection: trying the next path is
    // not an error.
    client.addEventListener('close', (e) => {
      if (taken) e.stopImmediatePropagation();
    });
    client.addEventListener('state', (e) => {
      if (taken) e.stopImmediatePropagation();
    });
    client.on('close', ({ willReconnect }) => {
      if (!willReconnect) settle('refused');
    });
    client.on('created', () => settle('published'));
    ui.watchConnection(client, 'publish', {
      onRefused: () => {
        for (const track of local.getTracks()) track.stop();
      },
    });
  });
}
