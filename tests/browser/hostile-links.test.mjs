// Links that try to point the page at another host (issue 11, item 1): whatever the query
// says, the page stays on its own origin, opens no WebSocket and fetches nothing anywhere else,
// and says why it did not start. Every request and WebSocket the page makes is observed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, waitForStatus } from '../support/browser.mjs';

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

/**
 * Opens `/` + query in a page of `context` (a fresh one by default) and records every request,
 * WebSocket and navigation of the page.
 */
async function observe(query, context) {
  context ??= await browser.newContext();
  const page = await context.newPage();
  const seen = { requests: [], sockets: [], navigations: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  page.on('framenavigated', (f) => seen.navigations.push(f.url()));
  page.on('dialog', (d) => {
    seen.dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  const url = `${server.url.origin}/${query}`;
  await page.goto(url);
  return { page, context, seen, url };
}

/** Every URL the page touched is on the server's origin (ws: for its sockets). */
function assertStayedHome({ seen, url, page }) {
  const { host } = server.url;
  for (const r of seen.requests) assert.equal(new URL(r).host, host, `request to ${r}`);
  for (const s of seen.sockets) assert.equal(new URL(s).host, host, `WebSocket to ${s}`);
  assert.deepEqual(seen.navigations, [url], 'the page navigated');
  assert.equal(page.url(), url);
  assert.deepEqual(seen.dialogs, []);
}

const HOSTILE = [
  '?publish=//attacker.example/x',
  '?publish=%2F%2Fattacker.example%2Fx',
  '?subscribe=/%5Cattacker.example/y',
  '?subscribe=/\\attacker.example/y',
  '?subscribe=%5C%5Cattacker.example/y',
  '?subscribe=/%255Cattacker.example/y',
  '?subscribe=/%252F%252Fattacker.example/y',
  '?subscribe=%09//attacker.example/y',
  '?publish=%20//attacker.example/x',
  '?subscribe=https://attacker.example/x',
  '?publish=http%3A%2F%2Fattacker.example%2Fx',
  '?subscribe=HTTPS:attacker.example',
  '?subscribe=ws://attacker.example/x',
  '?publish=javascript:alert(document.domain)',
  '?subscribe=JavaScript%3Aalert(1)',
  '?subscribe=%6A%61vascript%3Aalert(1)',
  `?subscribe=${encodeURIComponent('data:text/html,<script>alert(1)</script>')}`,
  '?publish=/../attacker',
  '?subscribe=/%2e%2e/x',
  '?subscribe=',
];

test('hostile stream links leave the page on its own origin, connect nowhere and say why', async () => {
  const context = await browser.newContext();
  for (const query of HOSTILE) {
    const observed = await observe(query, context);
    try {
      await waitForStatus(observed.page, 'refused', 5000);
      const message = await observed.page.locator('#problem-text').innerText();
      assert.ok(message.length > 10, `${query}: no message`);
      assert.ok(await observed.page.locator('#problem').isVisible(), `${query}: message hidden`);
      assert.deepEqual(observed.seen.sockets, [], `${query}: opened a WebSocket`);
      assertStayedHome(observed);
    } finally {
      await observed.page.close();
    }
  }
  await context.close();
});

test('a stream link on this origin connects here, and only here (the observation works)', async () => {
  const observed = await observe('?subscribe=/browser/hostile-control&ice=none');
  try {
    await waitForStatus(observed.page, 'waiting');
    await observed.page.waitForFunction(() => window.namedStreams.client.id !== null);
    assert.deepEqual(observed.seen.sockets, [`ws://${server.url.host}/browser/hostile-control?mode=subscribe`]);
    assertStayedHome(observed);
  } finally {
    await observed.context.close();
  }
});

test('the watch form follows links from this site and refuses links to others', async () => {
  const observed = await observe('');
  const { page } = observed;
  try {
    for (const pasted of ['https://attacker.example/?subscribe=/x', 'javascript:alert(1)', '//attacker.example/x']) {
      await page.fill('#join-path', pasted);
      await page.click('#join button');
      await page.waitForFunction(() => document.getElementById('join-error').textContent.length > 10);
      assert.equal(await page.getAttribute('body', 'data-view'), 'landing', pasted);
    }
    assertStayedHome(observed);
    await page.fill('#join-path', `${server.url.origin}/?subscribe=${encodeURIComponent('/browser/shared link')}`);
    await Promise.all([page.waitForURL(/subscribe=/), page.click('#join button')]);
    assert.equal(new URL(page.url()).searchParams.get('subscribe'), '/browser/shared%20link');
    await waitForStatus(page, 'waiting');
    assert.deepEqual(observed.seen.sockets, [`ws://${server.url.host}/browser/shared%20link?mode=subscribe`]);
  } finally {
    await observed.context.close();
  }
});
