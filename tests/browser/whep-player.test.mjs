// WHIP in, WHEP out, with clients that are not our code (issue 12): Debian's simple-whip-client
// (GStreamer test sources) publishes into a named stream through the Worker's WHIP endpoint,
// and npm's @eyevinn/webrtc-player (0.13.0) in Chromium plays it through the WHEP endpoint,
// the media relayed by the Realtime SFU stand-in. The player runs in a test-only page this test
// serves from its own origin (the player bundled by esbuild from node_modules), so it also
// shows that a page on a listed origin (ICE_CORS_ORIGINS) can use WHEP across origins.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../support/server.mjs';
import { startStandin } from '../support/realtime.mjs';
import { startWhipClient } from '../support/whip-client.mjs';
import { launchBrowser, openPage } from '../support/browser.mjs';

const ROOT = path.resolve(import.meta.dirname, '../..');

let standin;
let server;
let browser;
let site;
let siteOrigin;

/** A page that plays `?whep=<url>` with the Eyevinn player: test code, served by this test. */
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>WHEP player (test)</title>
<video autoplay muted playsinline></video>
<script type="module">
  import bundle from './webrtc-player.mjs';
  const { WebRTCPlayer } = bundle;
  const video = document.querySelector('video');
  const url = new URL(new URLSearchParams(location.search).get('whep'));
  const player = new WebRTCPlayer({ video, type: 'whep', iceServers: [], timeoutThreshold: 60000 });
  window.player = player;
  window.errors = [];
  player.on('no-media', () => window.errors.push('no-media'));
  player.load(url).catch((e) => window.errors.push(String(e)));
</script>`;

before(async () => {
  // The player, bundled once for this run.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'whep-player-'));
  execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), [
    path.join(ROOT, 'node_modules/@eyevinn/webrtc-player/dist/main.js'),
    '--bundle',
    '--format=esm',
    '--platform=browser',
    '--log-level=warning',
    `--outfile=${path.join(dir, 'webrtc-player.mjs')}`,
  ]);
  const bundle = fs.readFileSync(path.join(dir, 'webrtc-player.mjs'));
  fs.rmSync(dir, { recursive: true, force: true });
  site = http.createServer((req, res) => {
    if (req.url.startsWith('/webrtc-player.mjs')) {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    }
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteOrigin = `http://127.0.0.1:${site.address().port}`;
  standin = await startStandin();
  server = await startServer({
    bindings: { ...standin.bindings, SFU_MODE: 'always', ICE_SERVERS: '[]', ICE_CORS_ORIGINS: siteOrigin },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await standin?.stop();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve()));
});

/** Resolves once the page's video has a picture and its time advances by two seconds. */
async function playing(page, timeout = 30_000) {
  await page.waitForFunction(() => document.querySelector('video').videoWidth > 0, null, { timeout });
  const start = await page.evaluate(() => document.querySelector('video').currentTime);
  await page.waitForFunction((t) => document.querySelector('video').currentTime > t + 2, start, { timeout });
}

test('simple-whip-client publishes into a named stream; the Eyevinn WHEP player plays it', async () => {
  const stream = '/whep/ball';
  const whip = startWhipClient(new URL(`/api/whip${stream}`, server.url).href);
  const context = await browser.newContext();
  try {
    await whip.connected;
    const status = await (await fetch(new URL(`/api/streams${stream}`, server.url))).json();
    assert.equal(status.live, true);
    assert.equal(status.mode, 'sfu');
    const page = await context.newPage();
    if (process.env.WHEP_DEBUG) {
      page.on('console', (m) => console.error('[page]', m.text()));
      page.on('requestfinished', async (r) => console.error('[req]', r.method(), r.url(), (await r.response())?.status()));
    }
    const whep = new URL(`/api/whep${stream}`, server.url).href;
    await page.goto(`${siteOrigin}/?whep=${encodeURIComponent(whep)}`);
    await playing(page);
    assert.deepEqual(await page.evaluate(() => window.errors), []);
    assert.equal(await page.evaluate(() => document.querySelector('video').videoWidth), 320);
    // One viewer, counted as a subscriber; the SFU relays the encoder's video to it.
    assert.equal((await (await fetch(new URL(`/api/streams${stream}`, server.url))).json()).subscribers, 1);
    const pushed = (await standin.stats()).sessions.flatMap((s) => s.tracks).find((t) => t.location === 'local' && t.kind === 'video');
    assert.ok(pushed.packets > 0 && pushed.pullers === 1, JSON.stringify(pushed));
    // The player leaves with DELETE on its session URL.
    const deleted = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await page.evaluate(() => window.player.unload());
    assert.equal((await deleted).status(), 200);
    assert.equal((await (await fetch(new URL(`/api/streams${stream}`, server.url))).json()).subscribers, 0);
  } finally {
    await context.close();
    await whip.stop();
  }
  // Ctrl-C on the encoder DELETEs its session: the stream ends.
  const ended = await (await fetch(new URL(`/api/streams${stream}`, server.url))).json();
  assert.equal(ended.live, false);
  assert.deepEqual(await standin.violations(), []);
});

test('a stream published from our page plays in the Eyevinn WHEP player', async () => {
  const stream = '/whep/page';
  const publisher = await openPage(browser, server, `?publish=${encodeURIComponent(stream)}&ice=none`);
  const context = await browser.newContext();
  try {
    // The page pushed its tracks through the proxy once the stream went live on the SFU.
    await publisher.waitForFunction(() => window.namedStreams.sfu?.pc?.connectionState === 'connected', null, { timeout: 30_000 });
    const page = await context.newPage();
    const whep = new URL(`/api/whep${stream}`, server.url).href;
    await page.goto(`${siteOrigin}/?whep=${encodeURIComponent(whep)}`);
    await playing(page);
    assert.deepEqual(await page.evaluate(() => window.errors), []);
    assert.ok((await page.evaluate(() => document.querySelector('video').videoWidth)) > 0);
  } finally {
    await context.close();
    await publisher.context().close();
  }
  assert.deepEqual(await standin.violations(), []);
});
