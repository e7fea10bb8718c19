// The page and the stream status API (issue 13, item 1): a viewer who arrives before the
// publisher is told so from the status, and the landing page checks a pasted stream before
// joining it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForStatus } from '../support/browser.mjs';
import { Client } from '../support/client.mjs';

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

test('a viewer who comes first sees from the status that nobody publishes yet, then the publisher', async () => {
  const path = '/browser/status-first';
  const page = await openPage(browser, server, `?subscribe=${encodeURIComponent(path)}&ice=none`);
  try {
    await page.waitForFunction(() => document.body.dataset.stream === 'not-live', null, { timeout: 10_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.status), 'waiting');
    assert.match(await page.textContent('#status'), /Waiting for the publisher: nobody is publishing on this stream yet/);
    // The publisher arrives: the stream's own events take over.
    const publisher = await Client.join(server.wsBase, path, 'publish');
    await waitForStatus(page, 'connecting');
    publisher.close();
  } finally {
    await page.context().close();
  }
});

test('a viewer of a live stream is not told to wait', async () => {
  const path = '/browser/status-live';
  const publisher = await Client.join(server.wsBase, path, 'publish');
  const page = await openPage(browser, server, `?subscribe=${encodeURIComponent(path)}&ice=none`);
  try {
    await page.waitForFunction(() => document.body.dataset.stream === 'live', null, { timeout: 10_000 });
    assert.doesNotMatch(await page.textContent('#status'), /nobody is publishing/);
  } finally {
    await page.context().close();
    publisher.close();
  }
});

test('the landing page says whether a pasted stream is live before joining it', async () => {
  const live = '/browser/status-check';
  const publisher = await Client.join(server.wsBase, live, 'publish');
  const viewer = await Client.join(server.wsBase, live, 'subscribe');
  await publisher.event('subscribed', viewer.id);
  const page = await openPage(browser, server, '');
  const check = async (text) => {
    await page.fill('#join-path', text);
    await page.evaluate(() => delete document.getElementById('join-status').dataset.answer);
    await page.click('#check');
    await page.waitForFunction(() => document.getElementById('join-status').dataset.answer !== undefined);
    return page.evaluate(() => {
      const note = document.getElementById('join-status');
      return { answer: note.dataset.answer, text: note.textContent };
    });
  };
  try {
    const liveAnswer = await check(live);
    assert.equal(liveAnswer.answer, 'live');
    assert.match(liveAnswer.text, /^Live now \(started just now\), with 1 viewer\.$/);
    // A shared link works as well as a path.
    const linked = await check(`${server.url.origin}/?subscribe=${encodeURIComponent(live)}`);
    assert.equal(linked.answer, 'live');
    // A link to another site is refused by the page itself, which asks nobody.
    const foreign = await check('https://elsewhere.example/?subscribe=/browser/status-check');
    assert.equal(foreign.answer, 'invalid-path');
    assert.match(foreign.text, /another site/);
    const absent = await check('/browser/status-nobody');
    assert.equal(absent.answer, 'not-live');
    assert.match(absent.text, /Nobody is publishing here yet/);
    // Nothing was joined: the live stream still has its one viewer, and the page stayed.
    assert.equal(await page.evaluate(() => document.body.dataset.view), 'landing');
    const res = await fetch(new URL(`/api/streams${live}`, server.url));
    assert.equal((await res.json()).subscribers, 1);
  } finally {
    await page.context().close();
    viewer.close();
    publisher.close();
  }
});
