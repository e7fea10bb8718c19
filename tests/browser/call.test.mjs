// Two-party calls (`?call=`, issue 16): each side publishes on its own stream under the call's
// name and receives the other's; the single-publisher rule decides who has `/1` and who `/2`,
// and a third person is told the call is full. Chromium with fake camera and microphone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForStatus } from '../support/browser.mjs';
import { closeAll, videoGrows } from '../support/room-pages.mjs';

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

let n = 0;
const freshCall = () => `/calls/browser-${++n}`;
const callPage = (call) => openPage(browser, server, `?call=${encodeURIComponent(call)}&ice=none`);
const mine = (page) => page.evaluate(() => window.namedStreams.call.mine);

test('a two-party call: media both ways; a third person is told the call is full', async () => {
  const call = freshCall();
  const pages = [];
  try {
    const first = await callPage(call);
    pages.push(first);
    await waitForStatus(first, 'waiting');
    assert.equal(await mine(first), `${call}/1`);

    const second = await callPage(call);
    pages.push(second);
    await Promise.all([waitForStatus(first, 'live'), waitForStatus(second, 'live')]);
    assert.equal(await mine(second), `${call}/2`);
    // Video arrives and keeps arriving on both sides.
    const [atFirst, atSecond] = await Promise.all([videoGrows(first, 'call'), videoGrows(second, 'call')]);
    assert.ok(atFirst.last > atFirst.first && atSecond.last > atSecond.first);
    assert.equal(await first.locator('#tiles video').count(), 2);

    // A third person: both streams are taken, the page says so and keeps nothing open.
    const third = await openPage(browser, server, '');
    pages.push(third);
    const sockets = [];
    third.on('websocket', (ws) => sockets.push({ url: ws.url(), closed: new Promise((resolve) => ws.on('close', resolve)) }));
    await third.goto(new URL(`/?call=${encodeURIComponent(call)}&ice=none`, server.url).toString());
    await waitForStatus(third, 'full');
    assert.ok(await third.locator('#problem').isVisible());
    assert.match(await third.locator('#problem-title').innerText(), /full/);
    assert.equal(await third.evaluate(() => window.namedStreams.call.mine), null);
    const host = server.url.host;
    assert.deepEqual(
      sockets.map((s) => s.url),
      [`ws://${host}${call}/1?mode=publish`, `ws://${host}${call}/2?mode=publish`],
    );
    // Both tries were refused and closed: the third person holds no place in the call.
    await Promise.all(sockets.map((s) => s.closed));
    // The two in the call carry on.
    await Promise.all([videoGrows(first, 'call'), videoGrows(second, 'call')]);
    assert.equal(await first.evaluate(() => document.body.dataset.status), 'live');
  } finally {
    await closeAll(pages);
  }
});

test('arriving together, one gets /1 and the other /2; when one leaves the freed place is taken again', async () => {
  const call = freshCall();
  const pages = [];
  try {
    const both = await Promise.all([callPage(call), callPage(call)]);
    pages.push(...both);
    await Promise.all(both.map((p) => waitForStatus(p, 'live')));
    const places = (await Promise.all(both.map(mine))).sort();
    assert.deepEqual(places, [`${call}/1`, `${call}/2`]);
    await Promise.all(both.map((p) => videoGrows(p, 'call')));

    // The one on /1 leaves: the other is told, and waits.
    const [leaving, staying] = (await mine(both[0])) === `${call}/1` ? both : [both[1], both[0]];
    await leaving.context().close();
    await waitForStatus(staying, 'waiting');
    assert.match(await staying.locator('#status').innerText(), /left/);

    // Somebody new gets /1 and the call is whole again, with media both ways.
    const newcomer = await callPage(call);
    pages.push(newcomer);
    await Promise.all([waitForStatus(newcomer, 'live'), waitForStatus(staying, 'live')]);
    assert.equal(await mine(newcomer), `${call}/1`);
    await Promise.all([videoGrows(newcomer, 'call'), videoGrows(staying, 'call')]);
  } finally {
    await closeAll(pages);
  }
});
