// SFU mode through the page, with real media: the Worker proxies the Connection API to the
// Realtime SFU stand-in (tests/support/realtime-standin/, werift), which forwards the
// publisher's RTP to every subscriber. Chromium with fake camera and microphone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startStandin } from '../support/realtime.mjs';
import { launchBrowser, openPage, waitForStatus, waitForMedia } from '../support/browser.mjs';

let standin;
let browser;
before(async () => {
  standin = await startStandin();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await standin?.stop();
});

let n = 0;
const freshPath = () => `/browser/sfu-${++n}`;
const publisherPage = (server, path) => openPage(browser, server, `?publish=${encodeURIComponent(path)}&ice=none`);
const subscriberPage = (server, path) => openPage(browser, server, `?subscribe=${encodeURIComponent(path)}&ice=none`);

async function closeAll(pages) {
  await Promise.all(pages.filter((p) => !p.isClosed()).map((p) => p.context().close()));
}

/** Waits until a subscriber page plays the SFU's stream: moved, connected, video decoding. */
async function waitForSfuMedia(page, timeout = 30_000) {
  await page.waitForFunction(
    () => {
      const { sfu } = window.namedStreams;
      const video = document.getElementById('remote');
      return sfu?.state.moved && sfu.pc?.connectionState === 'connected' && video.videoWidth > 0 && !video.paused && video.srcObject;
    },
    null,
    { timeout },
  );
  // Inbound video bytes on the SFU connection grow over two seconds of the page's clock.
  await page.evaluate(async (timeout) => {
    const bytes = async () => {
      let total = 0;
      (await window.namedStreams.sfu.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') total += s.bytesReceived;
      });
      return total;
    };
    const first = await bytes();
    const start = performance.now();
    for (;;) {
      const now = await bytes();
      if (performance.now() - start >= 2000 && now > first) return;
      if (performance.now() - start > timeout) throw new Error(`SFU video bytes stayed at ${now}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, timeout);
}

/**
 * Video bytes a page sends (`outbound`) or receives (`inbound`) over `ms` of its own clock,
 * summed over every peer connection it has (the SFU's and the mesh's).
 */
function videoBytesOver(page, direction, ms) {
  return page.evaluate(
    async ({ direction, ms }) => {
      const { sfu, mesh } = window.namedStreams;
      const total = async () => {
        let bytes = 0;
        const pcs = [sfu?.pc, ...[...mesh.peers.values()].map((p) => p.pc)].filter(Boolean);
        for (const pc of pcs) {
          (await pc.getStats()).forEach((s) => {
            if (s.type === `${direction}-rtp` && s.kind === 'video') bytes += direction === 'outbound' ? s.bytesSent : s.bytesReceived;
          });
        }
        return bytes;
      };
      const first = await total();
      await new Promise((resolve) => setTimeout(resolve, ms));
      return (await total()) - first;
    },
    { direction, ms },
  );
}

test('SFU_MODE=always: four subscribers receive media through the SFU; the publisher uploads one copy', async () => {
  const server = await startServer({ bindings: { ...standin.bindings, SFU_MODE: 'always' } });
  const path = freshPath();
  const pages = [];
  const violationsBefore = (await standin.violations()).length;
  try {
    const publisher = await publisherPage(server, path);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const subs = [];
    for (let i = 0; i < 4; i++) subs.push(await subscriberPage(server, path));
    pages.push(...subs);
    for (const page of subs) await waitForSfuMedia(page);

    // Nobody used the mesh: the publisher has no mesh connection, only its SFU session.
    assert.equal(await publisher.evaluate(() => window.namedStreams.mesh.peers.size), 0);
    for (const page of subs) assert.equal(await page.evaluate(() => window.namedStreams.mesh.peers.size), 0);
    assert.equal(await publisher.evaluate(() => window.namedStreams.sfu.pc.connectionState), 'connected');

    // One upload: over the same three seconds, what the publisher sends is about what one
    // subscriber receives (a mesh would send four copies).
    const WINDOW = 3000;
    const [sent, ...received] = await Promise.all([videoBytesOver(publisher, 'outbound', WINDOW), ...subs.map((p) => videoBytesOver(p, 'inbound', WINDOW))]);
    const perViewer = received.reduce((a, b) => a + b, 0) / received.length;
    console.log(`SFU upload: publisher sent ${sent} video bytes in ${WINDOW} ms; subscribers received ${received.join(', ')}`);
    assert.ok(received.every((r) => r > 0), 'every subscriber receives video');
    assert.ok(sent < 1.6 * perViewer, `the publisher sent ${sent} bytes, ${(sent / perViewer).toFixed(2)}× one viewer's ${Math.round(perViewer)}`);

    // The stand-in relayed it: one pushed video track, four pullers.
    const stats = await standin.stats();
    const pushed = stats.sessions.flatMap((s) => s.tracks).filter((t) => t.location === 'local' && t.kind === 'video' && t.pullers === 4);
    assert.equal(pushed.length, 1);
    assert.deepEqual((await standin.violations()).slice(violationsBefore), [], 'the Worker sent only documented bodies');
  } finally {
    await closeAll(pages);
    await server.stop();
  }
});

test('SFU_MODE=auto, MESH_MAX_SUBSCRIBERS=2: the third subscriber moves the stream to the SFU; the first two keep playing through the switch, then their mesh connections close', async () => {
  const server = await startServer({ bindings: { ...standin.bindings, SFU_MODE: 'auto', MESH_MAX_SUBSCRIBERS: '2' } });
  const path = freshPath();
  const pages = [];
  const violationsBefore = (await standin.violations()).length;
  try {
    const publisher = await publisherPage(server, path);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const first = [await subscriberPage(server, path), await subscriberPage(server, path)];
    pages.push(...first);
    for (const page of first) await waitForMedia(page);
    assert.equal(await publisher.evaluate(() => window.namedStreams.mesh.peers.size), 2);
    assert.equal(await publisher.evaluate(() => window.namedStreams.sfu.active), false, 'two subscribers: still a mesh');

    // Each of the first two notes every video frame it presents: when, whether it had moved to
    // the SFU, and whether its mesh connection was closed by then.
    for (const page of first) {
      await page.evaluate(() => {
        const video = document.getElementById('remote');
        const meshPc = [...window.namedStreams.mesh.peers.values()][0].pc;
        window.meshPc_ = meshPc;
        window.frames_ = [];
        const note = (now) => {
          window.frames_.push({ at: now, moved: window.namedStreams.sfu.state.moved, meshClosed: meshPc.connectionState === 'closed' });
          video.requestVideoFrameCallback(note);
        };
        video.requestVideoFrameCallback(note);
      });
    }
    const publisherMeshPcs = await publisher.evaluateHandle(() => [...window.namedStreams.mesh.peers.values()].map((p) => p.pc));

    const third = await subscriberPage(server, path);
    pages.push(third);
    for (const page of [...first, third]) await waitForSfuMedia(page);

    // The first two kept playing: frames from the mesh, then from the SFU with the mesh
    // connection still open, then from the SFU with it closed; never closed before the move.
    for (const page of first) {
      await page.waitForFunction(() => window.frames_.filter((f) => f.meshClosed).length >= 10);
      const f = await page.evaluate(() => window.frames_);
      const meshEra = f.filter((x) => !x.moved);
      const sfuEra = f.filter((x) => x.moved);
      const switchGap = sfuEra[0].at - meshEra.at(-1).at;
      let longest = 0;
      for (let i = 1; i < f.length; i++) longest = Math.max(longest, f[i].at - f[i - 1].at);
      console.log(`switch: ${meshEra.length} frames from the mesh, then ${sfuEra.length} from the SFU; ${Math.round(switchGap)} ms between them; longest gap ${Math.round(longest)} ms`);
      assert.ok(meshEra.length > 10, 'frames came through the mesh before the switch');
      assert.ok(f.every((x) => x.moved || !x.meshClosed), 'the mesh connection closed only after the move to the SFU');
      // A black screen until the SFU's first frames (a mesh closed too early) lasts seconds.
      assert.ok(switchGap < 3000, `${Math.round(switchGap)} ms without a frame at the switch`);
      assert.equal(await page.evaluate(() => window.namedStreams.mesh.peers.size), 0);
    }
    await publisher.waitForFunction(() => window.namedStreams.mesh.peers.size === 0);
    assert.deepEqual(await publisherMeshPcs.evaluate((pcs) => pcs.map((pc) => pc.connectionState)), ['closed', 'closed']);
    assert.equal(await publisher.evaluate(() => document.body.dataset.viewers), '3');
    assert.deepEqual((await standin.violations()).slice(violationsBefore), [], 'the Worker sent only documented bodies');
  } finally {
    await closeAll(pages);
    await server.stop();
  }
});
