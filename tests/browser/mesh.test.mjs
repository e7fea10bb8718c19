// Real media through the page: one publisher, three subscribers, in both join orders, with
// leaves and a publisher coming back. Chromium with fake camera and microphone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForStatus, waitForMedia, inboundBytes } from '../support/browser.mjs';

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

const SUBSCRIBERS = 3;
let n = 0;
const freshPath = () => `/browser/mesh-${++n}`;
const publisherPage = (path) => openPage(browser, server, `?publish=${encodeURIComponent(path)}&ice=none`);
const subscriberPage = (path) => openPage(browser, server, `?subscribe=${encodeURIComponent(path)}&ice=none`);
const viewers = (page) => page.evaluate(() => window.namedStreams.mesh.peers.size);

async function closeAll(pages) {
  await Promise.all(pages.map((p) => p.context().close()));
}

test('subscribers first, then the publisher: every subscriber receives media', async () => {
  const path = freshPath();
  const pages = [];
  try {
    for (let i = 0; i < SUBSCRIBERS; i++) pages.push(await subscriberPage(path));
    for (const page of pages) await waitForStatus(page, 'waiting');
    const publisher = await publisherPage(path);
    pages.push(publisher);
    for (const page of pages.slice(0, SUBSCRIBERS)) await waitForMedia(page);
    assert.equal(await viewers(publisher), SUBSCRIBERS);
    await mkdir('test-results', { recursive: true });
    await pages[0].screenshot({ path: 'test-results/subscriber.png' });
  } finally {
    await closeAll(pages);
  }
});

test('publisher first; a subscriber leaves; the publisher leaves and comes back', async () => {
  const path = freshPath();
  const pages = [];
  try {
    const publisher = await publisherPage(path);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const subs = [];
    for (let i = 0; i < SUBSCRIBERS; i++) subs.push(await subscriberPage(path));
    pages.push(...subs);
    for (const page of subs) await waitForMedia(page);
    assert.equal(await viewers(publisher), SUBSCRIBERS);

    // One subscriber leaves: the publisher closes that connection, the others keep receiving.
    const [leaving, ...staying] = subs;
    const leavingId = await leaving.evaluate(() => window.namedStreams.client.id);
    await leaving.context().close();
    await publisher.waitForFunction(
      ([id, count]) => !window.namedStreams.mesh.peers.has(id) && window.namedStreams.mesh.peers.size === count,
      [leavingId, SUBSCRIBERS - 1],
    );
    for (const page of staying) await waitForMedia(page);

    // The publisher leaves: every subscriber says so within 2 s.
    await publisher.context().close();
    await Promise.all(staying.map((page) => waitForStatus(page, 'publisher-left', 2000)));

    // A new publisher on the same path: every subscriber is live again without reloading.
    const again = await publisherPage(path);
    pages.push(again);
    for (const page of staying) await waitForMedia(page);
    assert.equal(await viewers(again), SUBSCRIBERS - 1);
  } finally {
    await closeAll(pages.filter((p) => !p.isClosed()));
  }
});

test('a hash-protected stream: subscribers on the hash path receive media', async () => {
  const name = `/browser/private-${++n}`;
  const pages = [];
  try {
    const publisher = await publisherPage(`/sha256${name}`);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const share = await publisher.inputValue('#share-link');
    const viewerPath = new URL(share).searchParams.get('subscribe');
    assert.match(viewerPath, /^\/sha256\/[0-9a-f]{64}$/);
    const sub = await subscriberPage(viewerPath);
    pages.push(sub);
    await waitForMedia(sub);
    const bytes = await inboundBytes(sub);
    assert.ok(bytes.video > 0 && bytes.audio > 0);
  } finally {
    await closeAll(pages);
  }
});
