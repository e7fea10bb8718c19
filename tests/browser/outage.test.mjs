// Signaling outages under live media (issue 10): each page that is cut reaches the server
// through its own TCP proxy (tests/support/tcp-proxy.mjs). With resume, media keeps flowing
// through a 5 s outage and the pages keep their ids and RTCPeerConnections, renegotiating
// nothing; without it, the pages reset cleanly and media comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { launchBrowser, waitForStatus, waitForMedia } from '../support/browser.mjs';

let server;
let noResume;
let browser;
let serverResumes = false;
const proxies = [];
before(async () => {
  server = await startServer();
  // Resume off: every drop is a departure, as with rtclite.
  noResume = await startServer({ bindings: { RESUME_GRACE_SECONDS: '0' } });
  browser = await launchBrowser();
  serverResumes = await offersResume(server);
});
after(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await browser?.close();
  await server?.stop();
  await noResume?.stop();
});

/** Whether the server's `created` carries a resume value. */
async function offersResume(srv) {
  const ws = new WebSocket(`${srv.wsBase}/browser/outage-probe?mode=subscribe`);
  const created = await new Promise((resolve, reject) => {
    ws.addEventListener('message', (e) => resolve(JSON.parse(e.data)), { once: true });
    ws.addEventListener('error', reject, { once: true });
  });
  ws.close();
  return typeof created?.data?.resume === 'string';
}

let n = 0;
/** Opens the app at `origin` (the server's, or a proxy's in front of it). */
async function openAt(origin, query) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(`${origin}/${query}`);
  return page;
}
async function proxyFor(srv) {
  const proxy = await startProxy(Number(srv.url.port));
  proxies.push(proxy);
  return proxy;
}

/**
 * Marks the page's current peer connections and their descriptions, so `samePeers` can tell
 * whether they are the very same objects, never renegotiated.
 */
const markPeers = (page) =>
  page.evaluate(() => {
    window.__marked = [...window.namedStreams.mesh.peers.entries()].map(([id, p]) => ({
      id,
      pc: p.pc,
      local: p.pc.localDescription?.sdp,
      remote: p.pc.remoteDescription?.sdp,
    }));
    return window.__marked.length;
  });
const samePeers = (page) =>
  page.evaluate(() => {
    const peers = window.namedStreams.mesh.peers;
    return (
      peers.size === window.__marked.length &&
      window.__marked.every(
        (m) =>
          peers.get(m.id)?.pc === m.pc &&
          m.pc.connectionState === 'connected' &&
          m.pc.localDescription?.sdp === m.local &&
          m.pc.remoteDescription?.sdp === m.remote,
      )
    );
  });

/** Inbound bytes of a subscriber page, summed over audio and video. */
const inbound = (page) =>
  page.evaluate(async () => {
    const [peer] = window.namedStreams.mesh.peers.values();
    if (!peer) return 0;
    let bytes = 0;
    (await peer.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp') bytes += s.bytesReceived;
    });
    return bytes;
  });

/** Waits until the page's inbound bytes exceed `than`, at least `ms` of the page's clock later. */
async function grows(page, than, ms = 1000) {
  await page.evaluate((wait) => {
    window.__growFrom = performance.now() + wait;
  }, ms);
  await page.waitForFunction(
    async (prev) => {
      if (performance.now() < window.__growFrom) return false;
      const [peer] = window.namedStreams.mesh.peers.values();
      if (!peer) return false;
      let bytes = 0;
      (await peer.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp') bytes += s.bytesReceived;
      });
      return bytes > prev;
    },
    than,
    { polling: 200, timeout: 10_000 },
  );
  return inbound(page);
}

const signaling = (page) => page.getAttribute('body', 'data-signaling');
const waitSignaling = (page, state, timeout = 15_000) =>
  page.waitForFunction((s) => document.body.dataset.signaling === s, state, { timeout });
const clientId = (page) => page.evaluate(() => window.namedStreams.client.id);

test('a 5 s signaling outage: media flows throughout, ids and peer connections are kept', async (t) => {
  if (!serverResumes) {
    t.skip('the server does not offer resume yet (created has no resume value)');
    return;
  }
  const path = `/browser/outage-${++n}`;
  const q = (mode) => `?${mode}=${encodeURIComponent(path)}&ice=none&heartbeat=1`;
  const pubProxy = await proxyFor(server);
  const subProxy = await proxyFor(server);
  const pages = [];
  try {
    const publisher = await openAt(pubProxy.origin, q('publish'));
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const cutSub = await openAt(subProxy.origin, q('subscribe'));
    const steadySub = await openAt(server.url.origin, q('subscribe'));
    pages.push(cutSub, steadySub);
    for (const page of [cutSub, steadySub]) await waitForMedia(page);
    const ids = await Promise.all(pages.map(clientId));
    assert.equal(await markPeers(publisher), 2);
    for (const page of [cutSub, steadySub]) assert.equal(await markPeers(page), 1);

    // The publisher's connection is reset; the subscriber's goes silent.
    pubProxy.cut();
    subProxy.freeze();
    const bytes = [await inbound(cutSub), await inbound(steadySub)];
    for (let second = 1; second <= 5; second++) {
      for (const [i, page] of [cutSub, steadySub].entries()) bytes[i] = await grows(page, bytes[i]);
      if (second === 3) {
        // By now both have noticed (the subscriber through its 1 s heartbeat) and are resuming.
        assert.equal(await signaling(publisher), 'resuming');
        assert.equal(await signaling(cutSub), 'resuming');
      }
    }
    pubProxy.heal();
    subProxy.heal();
    await waitSignaling(publisher, 'connected');
    await waitSignaling(cutSub, 'connected');

    assert.deepEqual(await Promise.all(pages.map(clientId)), ids, 'an id changed');
    for (const page of pages) assert.equal(await samePeers(page), true, 'a peer connection was replaced or renegotiated');
    for (const page of [cutSub, steadySub]) await grows(page, await inbound(page));
    const states = await Promise.all(pages.map((p) => p.evaluate(() => window.namedStreams.client.state)));
    assert.deepEqual(states, ['connected', 'connected', 'connected']);

    // Signaling works again: a subscriber arriving after the outage gets media.
    const late = await openAt(server.url.origin, q('subscribe'));
    pages.push(late);
    await waitForMedia(late);
    assert.equal(await publisher.evaluate(() => window.namedStreams.mesh.peers.size), 3);
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});

test('without resume, a cut publisher joins afresh and every page resets cleanly', async () => {
  const path = `/browser/outage-${++n}`;
  const q = (mode) => `?${mode}=${encodeURIComponent(path)}&ice=none`;
  const pubProxy = await proxyFor(noResume);
  const pages = [];
  try {
    const publisher = await openAt(pubProxy.origin, q('publish'));
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const subs = [await openAt(noResume.url.origin, q('subscribe')), await openAt(noResume.url.origin, q('subscribe'))];
    pages.push(...subs);
    for (const page of subs) await waitForMedia(page);
    const oldId = await clientId(publisher);
    for (const page of pages) await markPeers(page);

    pubProxy.cut();
    // The subscribers hear the departure and drop the stale connection.
    for (const page of subs) await waitForStatus(page, 'publisher-left');
    pubProxy.heal();
    for (const page of subs) await waitForMedia(page);

    const newId = await clientId(publisher);
    assert.notEqual(newId, oldId);
    assert.equal(await publisher.evaluate(() => window.namedStreams.mesh.peers.size), 2);
    for (const page of pages) assert.equal(await samePeers(page), false);
    for (const page of subs) {
      assert.equal(await page.evaluate(() => [...window.namedStreams.mesh.peers.keys()].join()), newId);
    }
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});
