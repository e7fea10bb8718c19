// Signaling outages under live media (issue 10): each page that is cut reaches the server
// through its own TCP proxy (tests/support/tcp-proxy.mjs). With resume, media keeps flowing
// through a 5 s outage and through a restart of the runtime, and the pages keep their ids and
// RTCPeerConnections, renegotiating nothing; without it, the pages reset cleanly and media
// comes back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { launchBrowser, waitForStatus, waitForMedia, inboundBytes, mediaGrows } from '../support/browser.mjs';

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
  // Every signaling state with the page's clock, for the failure messages.
  await page.waitForFunction(() => window.namedStreams.client);
  await page.evaluate(() => {
    window.__states = [];
    window.namedStreams.client.on('state', ({ state }) => window.__states.push([Math.round(performance.now()), state]));
  });
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

const signaling = (page) => page.getAttribute('body', 'data-signaling');
const stateLog = (page) => page.evaluate(() => `states at ${Math.round(performance.now())} ms: ${JSON.stringify(window.__states)}`);
const waitSignaling = (page, state, timeout = 15_000) =>
  page.waitForFunction((s) => document.body.dataset.signaling === s, state, { timeout });
const clientId = (page) => page.evaluate(() => window.namedStreams.client.id);

test('a 5 s signaling outage: media flows throughout, ids and peer connections are kept', async () => {
  assert.ok(serverResumes, 'the server offers resume (created carries a resume value)');
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
    const cutAt = Date.now();
    // Both subscribers' media grows through every second of the outage.
    let bytes = await Promise.all([cutSub, steadySub].map(inboundBytes));
    for (let second = 1; second <= 5; second++) {
      bytes = await Promise.all([cutSub, steadySub].map((page, i) => mediaGrows(page, bytes[i], { atLeastMs: 1000, timeout: 5000 })));
      if (second === 3) {
        // By now both have noticed (the subscriber through its 1 s heartbeat) and are resuming.
        assert.equal(await signaling(publisher), 'resuming', `publisher ${await stateLog(publisher)} ${Date.now() - cutAt} ms after the cut`);
        assert.equal(await signaling(cutSub), 'resuming', `subscriber ${await stateLog(cutSub)} ${Date.now() - cutAt} ms after the cut`);
      }
    }
    pubProxy.heal();
    subProxy.heal();
    await waitSignaling(publisher, 'connected');
    await waitSignaling(cutSub, 'connected');

    assert.deepEqual(await Promise.all(pages.map(clientId)), ids, 'an id changed');
    for (const page of pages) assert.equal(await samePeers(page), true, 'a peer connection was replaced or renegotiated');
    for (const page of [cutSub, steadySub]) await mediaGrows(page, await inboundBytes(page), { atLeastMs: 1000 });
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

test('a runtime restart with the pages open: media flows on, ids and peer connections are kept', async () => {
  assert.ok(serverResumes, 'the server offers resume (created carries a resume value)');
  // A runtime of its own, on a state folder that outlives it, restarted on the same port.
  const state = await mkdtemp(path.join(tmpdir(), 'outage-restart-'));
  let runtime = await startServer({ persist: state });
  const port = Number(runtime.url.port);
  const streamPath = `/browser/outage-${++n}`;
  const q = (mode) => `?${mode}=${encodeURIComponent(streamPath)}&ice=none&heartbeat=1`;
  const pages = [];
  try {
    const publisher = await openAt(runtime.url.origin, q('publish'));
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const subs = [await openAt(runtime.url.origin, q('subscribe')), await openAt(runtime.url.origin, q('subscribe'))];
    pages.push(...subs);
    for (const page of subs) await waitForMedia(page);
    const ids = await Promise.all(pages.map(clientId));
    for (const page of pages) await markPeers(page);

    await runtime.stop();
    for (const page of pages) await waitSignaling(page, 'resuming');
    let bytes = await Promise.all(subs.map(inboundBytes));
    bytes = await Promise.all(subs.map((page, i) => mediaGrows(page, bytes[i], { atLeastMs: 1000, timeout: 5000 })));
    runtime = await startServer({ persist: state, port });
    for (const page of pages) await waitSignaling(page, 'connected');

    assert.deepEqual(await Promise.all(pages.map(clientId)), ids, 'an id changed');
    for (const page of pages) assert.equal(await samePeers(page), true, 'a peer connection was replaced or renegotiated');
    await Promise.all(subs.map((page, i) => mediaGrows(page, bytes[i], { atLeastMs: 1000 })));
    const late = await openAt(runtime.url.origin, q('subscribe'));
    pages.push(late);
    await waitForMedia(late);
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
    await runtime.stop().catch(() => {}); // already stopped if the restart failed
    await rm(state, { recursive: true, force: true });
  }
});
