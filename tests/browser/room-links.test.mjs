// Call and conference links are as hostile as stream links (issue 11.1, issue 16): whatever
// `?call=` or `?room=` says, the page stays on its own origin, opens no WebSocket unless the
// name is a plain stream path, and says why. The page's token goes to its own connections only.
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

/** Opens `/` + query in a page of `context` and records its requests, sockets and navigations. */
async function observe(query, context) {
  const page = await context.newPage();
  const seen = { requests: [], sockets: [], navigations: [] };
  page.on('request', (r) => seen.requests.push({ url: r.url(), headers: Object.values(r.headers()).join('\n') }));
  page.on('websocket', (ws) => seen.sockets.push(ws.url()));
  page.on('framenavigated', (f) => seen.navigations.push(f.url()));
  const url = `${server.url.origin}/${query}`;
  await page.goto(url);
  return { page, seen, url };
}

const HOSTILE = [
  '?call=//attacker.example/x',
  '?room=%2F%2Fattacker.example%2Fx',
  '?call=/%5Cattacker.example/y',
  '?room=/\\attacker.example/y',
  '?call=https://attacker.example/calls/x',
  '?room=ws://attacker.example/rooms/x',
  '?call=javascript:alert(document.domain)',
  '?room=%6A%61vascript%3Aalert(1)',
  `?room=${encodeURIComponent('data:text/html,<script>alert(1)</script>')}`,
  '?call=/../attacker',
  '?room=/rooms/%2e%2e',
  '?call=',
  '?room=/api/rooms',
  // Plain stream paths, but no call or room can be built on them.
  '?room=/sha256/rooms/x',
  '?call=/sha1/calls/x',
  '?room=/rooms/x%252F',
  `?call=/${'c'.repeat(2045)}`,
];

test('hostile call and room links connect nowhere, stay home and say why', async () => {
  const context = await browser.newContext();
  try {
    for (const query of HOSTILE) {
      const { page, seen, url } = await observe(query, context);
      try {
        await waitForStatus(page, 'refused', 5000).catch((err) => {
          throw new Error(`${query}: not refused`, { cause: err });
        });
        assert.ok((await page.locator('#problem-text').innerText()).length > 10, `${query}: no message`);
        assert.ok(await page.locator('#problem').isVisible(), `${query}: message hidden`);
        assert.deepEqual(seen.sockets, [], `${query}: opened a WebSocket`);
        for (const r of seen.requests) assert.equal(new URL(r.url).host, server.url.host, `${query}: request to ${r.url}`);
        assert.deepEqual(seen.navigations, [url], `${query}: navigated`);
        // Refused before the camera was asked for.
        assert.equal(await page.evaluate(() => document.querySelectorAll('#tiles video').length), 0, query);
      } finally {
        await page.close();
      }
    }
  } finally {
    await context.close();
  }
});

test("a call's token goes to its own streams' sockets, and to nothing else", async () => {
  const token = 'page-token-7f3a9c';
  const call = '/calls/links-token';
  const context = await browser.newContext();
  try {
    const { page, seen, url } = await observe(`?call=${encodeURIComponent(call)}&token=${token}&ice=none`, context);
    await waitForStatus(page, 'waiting');
    await page.waitForFunction(() => window.namedStreams.call.other?.state === 'connected');
    const host = server.url.host;
    assert.deepEqual(seen.sockets.sort(), [
      `ws://${host}${call}/1?mode=publish&token=${token}`,
      `ws://${host}${call}/2?mode=subscribe&token=${token}`,
    ]);
    // Every request but the page's own load (whose link carried the token).
    for (const r of seen.requests.filter((r) => r.url !== url)) {
      assert.equal(new URL(r.url).host, host);
      assert.ok(!r.url.includes(token) && !r.headers.includes(token), `token sent with ${r.url}`);
    }
    // The link shown to be shared carries no token.
    assert.ok(!(await page.inputValue('#room-link')).includes(token));
  } finally {
    await context.close();
  }
});

test("a conference's token goes to its watch and its streams' sockets, and to nothing else", async () => {
  const token = 'page-token-91bd20';
  const room = '/rooms/links-token';
  const context = await browser.newContext();
  try {
    const { page, seen, url } = await observe(`?room=${encodeURIComponent(room)}&token=${token}&ice=none`, context);
    await waitForStatus(page, 'waiting');
    const mine = await page.evaluate(() => window.namedStreams.conference.mine);
    const host = server.url.host;
    assert.deepEqual(seen.sockets, [`ws://${host}${room}?mode=watch&token=${token}`, `ws://${host}${mine}?mode=publish&token=${token}`]);
    for (const r of seen.requests.filter((r) => r.url !== url)) {
      assert.equal(new URL(r.url).host, host);
      assert.ok(!r.url.includes(token) && !r.headers.includes(token), `token sent with ${r.url}`);
    }
    assert.ok(!(await page.inputValue('#room-link')).includes(token));
  } finally {
    await context.close();
  }
});

test('the landing page starts a call and a conference under fresh random names', async () => {
  const context = await browser.newContext();
  try {
    const { page } = await observe('', context);
    assert.deepEqual(await page.locator('.start button').allInnerTexts(), ['Start a new stream', 'Start a call', 'Start a conference']);
    await Promise.all([page.waitForURL(/[?&]call=/), page.click('#start-call')]);
    assert.match(new URL(page.url()).searchParams.get('call'), /^\/calls\/[0-9a-f]{8}$/);
    await waitForStatus(page, 'waiting');
    await page.goto(`${server.url.origin}/`);
    await Promise.all([page.waitForURL(/[?&]room=/), page.click('#start-conference')]);
    assert.match(new URL(page.url()).searchParams.get('room'), /^\/rooms\/[0-9a-f]{8}$/);
  } finally {
    await context.close();
  }
});

test('a conference link to a path that is no room here is refused by the server before the camera starts', async () => {
  const context = await browser.newContext();
  try {
    const { page, seen } = await observe('?room=/streams/not-a-room&ice=none', context);
    await waitForStatus(page, 'refused');
    assert.equal(await page.evaluate(() => document.body.dataset.refusal), 'not-a-room');
    assert.ok(await page.locator('#problem').isVisible());
    assert.deepEqual(seen.sockets, [`ws://${server.url.host}/streams/not-a-room?mode=watch`]);
    assert.equal(await page.locator('#tiles video').count(), 0);
  } finally {
    await context.close();
  }
});
