// Glare (issue 14, item 2): both sides renegotiate at the same moment, each restarting ICE and
// adding a track, so their offers cross. Each page's incoming signaling is held until both have
// sent their offer, which makes the collision certain rather than a matter of timing. Both must
// settle (stable, connected, new ICE credentials) with media flowing every way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForMedia } from '../support/browser.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Holds the page's incoming NOTIFYs (its mesh's signaling) until `release`. */
function holdSignaling(page) {
  return page.evaluate(() => {
    const client = window.namedStreams.client;
    const deliver = EventTarget.prototype.dispatchEvent.bind(client);
    const held = [];
    client.dispatchEvent = (event) => (event.type === 'notify' ? (held.push(event), true) : deliver(event));
    window.releaseSignaling = () => {
      delete client.dispatchEvent;
      for (const event of held.splice(0)) deliver(event);
    };
  });
}

/**
 * Holds the page's incoming NOTIFYs until an answer and then an offer have arrived, and delivers
 * them all in one go: the offer lands while the answer is still being applied.
 */
function batchAnswerThenOffer(page) {
  return page.evaluate(() => {
    const client = window.namedStreams.client;
    const deliver = EventTarget.prototype.dispatchEvent.bind(client);
    const held = [];
    window.batched = [];
    client.dispatchEvent = (event) => {
      if (event.type !== 'notify') return deliver(event);
      held.push(event);
      const types = held.map((e) => e.detail.data?.description?.type).filter(Boolean);
      if (types.includes('answer') && types.lastIndexOf('offer') > types.indexOf('answer')) {
        delete client.dispatchEvent;
        window.batched = types;
        for (const e of held.splice(0)) deliver(e);
      }
      return true;
    };
  });
}

/** Makes the page add a canvas track as soon as it has sent an answer, so it offers right after. */
function offerRightAfterAnswering(page) {
  return page.evaluate(() => {
    const client = window.namedStreams.client;
    const notify = client.notify.bind(client);
    client.notify = (to, data) => {
      const sent = notify(to, data);
      if (data?.description?.type === 'answer') {
        delete client.notify;
        const [peer] = window.namedStreams.mesh.peers.values();
        const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 120 });
        const context = canvas.getContext('2d');
        let frame = 0;
        setInterval(() => {
          context.fillStyle = `hsl(${(frame += 10) % 360} 80% 50%)`;
          context.fillRect(0, 0, 160, 120);
        }, 50);
        peer.pc.addTrack(canvas.captureStream(20).getVideoTracks()[0]);
      }
      return sent;
    };
  });
}

/** Whether the page's side of its one peer connection is the polite one (the larger id). */
const isPolite = (page) =>
  page.evaluate(() => {
    const [peer] = window.namedStreams.mesh.peers.values();
    return String(window.namedStreams.client.id) > String(peer.remoteId);
  });

/** The page's ICE ufrag; then, if asked, restarts ICE. */
const ufragThenRestart = (page, restart) =>
  page.evaluate((restart) => {
    const [peer] = window.namedStreams.mesh.peers.values();
    const ufrag = /a=ice-ufrag:(\S+)/.exec(peer.pc.localDescription.sdp)[1];
    if (restart) peer.pc.restartIce();
    return ufrag;
  }, restart);

/** Restarts ICE and adds a canvas track on the page's one peer connection; returns its ICE ufrag. */
function renegotiate(page) {
  return page.evaluate(() => {
    const [peer] = window.namedStreams.mesh.peers.values();
    const canvas = Object.assign(document.createElement('canvas'), { width: 160, height: 120 });
    const context = canvas.getContext('2d');
    let frame = 0;
    // A canvas track carries frames only when the canvas changes.
    setInterval(() => {
      context.fillStyle = `hsl(${(frame += 10) % 360} 80% 50%)`;
      context.fillRect(0, 0, 160, 120);
    }, 50);
    const [track] = canvas.captureStream(20).getVideoTracks();
    const ufrag = /a=ice-ufrag:(\S+)/.exec(peer.pc.localDescription.sdp)[1];
    peer.pc.restartIce();
    peer.pc.addTrack(track);
    return ufrag;
  });
}

/** Waits until the page's peer is stable and connected with a new ufrag, and every inbound video track grows. */
function settles(page, oldUfrag, videoTracks) {
  return page.evaluate(
    async ({ oldUfrag, videoTracks }) => {
      const videoBytes = async (pc) => {
        const bytes = [];
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video') bytes.push(s.bytesReceived);
        });
        return bytes;
      };
      const deadline = performance.now() + 30_000;
      let first = null;
      for (;;) {
        const [peer] = window.namedStreams.mesh.peers.values();
        const pc = peer.pc;
        const ufrag = /a=ice-ufrag:(\S+)/.exec(pc.localDescription?.sdp ?? '')?.[1];
        const ready = pc.signalingState === 'stable' && pc.connectionState === 'connected' && ufrag !== oldUfrag;
        if (ready) {
          const now = await videoBytes(pc);
          if (now.length === videoTracks && first === null) first = now;
          else if (first && now.length === videoTracks && now.every((b, i) => b > first[i])) {
            return { signalingState: pc.signalingState, connectionState: pc.connectionState, ufragChanged: true, videoTracks: now.length, polite: peer.polite };
          }
        }
        if (performance.now() > deadline) {
          throw new Error(`did not settle: ${pc.signalingState}/${pc.connectionState}, ufrag ${ufrag} (was ${oldUfrag}), video ${JSON.stringify(await videoBytes(pc))}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    { oldUfrag, videoTracks },
  );
}

test('both sides restart ICE and add a track at once: both converge to connected with media flowing', async () => {
  const path = '/browser/glare';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  try {
    await waitForMedia(viewer);
    await Promise.all([holdSignaling(publisher), holdSignaling(viewer)]);
    const [publisherUfrag, viewerUfrag] = await Promise.all([renegotiate(publisher), renegotiate(viewer)]);
    // Both have made an offer and neither has seen the other's: a collision.
    const offered = (page) => page.waitForFunction(() => [...window.namedStreams.mesh.peers.values()][0].pc.signalingState === 'have-local-offer');
    await Promise.all([offered(publisher), offered(viewer)]);
    await Promise.all([publisher.evaluate(() => window.releaseSignaling()), viewer.evaluate(() => window.releaseSignaling())]);
    const [p, v] = await Promise.all([settles(publisher, publisherUfrag, 1), settles(viewer, viewerUfrag, 2)]);
    assert.notEqual(p.polite, v.polite, 'one side is polite, the other not');
    assert.equal(p.connectionState, 'connected');
    assert.equal(v.connectionState, 'connected');
    // The publisher's own audio and video still reach the viewer.
    await waitForMedia(viewer);
  } finally {
    await publisher.context().close();
    await viewer.context().close();
  }
});

test('an offer right behind the answer to its own offer is taken by the impolite side, not ignored (no deadlock)', async () => {
  const path = '/browser/glare-answer-then-offer';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await openPage(browser, server, `?subscribe=${path}&ice=none`);
  try {
    await waitForMedia(viewer);
    const [impolite, polite] = (await isPolite(publisher)) ? [viewer, publisher] : [publisher, viewer];
    // The impolite side restarts ICE; the polite side answers and offers its new track at once.
    // The impolite side gets both together: were the offer taken for a collision (the answer
    // still pending), it would be ignored and the polite side would wait for an answer forever.
    await batchAnswerThenOffer(impolite);
    await offerRightAfterAnswering(polite);
    // (The answer to an ICE restart has new credentials too.)
    const politeUfrag = await ufragThenRestart(polite, false);
    const impoliteUfrag = await ufragThenRestart(impolite, true);
    const settled = await Promise.all([
      // Inbound video: the viewer gets the camera, and the polite side's new track goes to the impolite.
      settles(impolite, impoliteUfrag, impolite === viewer ? 2 : 1),
      settles(polite, politeUfrag, polite === viewer ? 1 : 0),
    ]);
    assert.deepEqual((await impolite.evaluate(() => window.batched)).slice(0, 1), ['answer']);
    assert.ok(settled.every((s) => s.connectionState === 'connected'));
    await waitForMedia(viewer);
  } finally {
    await publisher.context().close();
    await viewer.context().close();
  }
});
