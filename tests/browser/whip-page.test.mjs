// WHIP into a named stream, watched on the page (issue 12): Debian's simple-whip-client
// (GStreamer test sources, headless) publishes through the Worker's WHIP endpoint with a publish
// token, and two Chromium subscribers on the page receive its media through the Realtime SFU
// stand-in. The WHIP encoder is the stream's publisher: the page's subscribers are told
// `published` and `sfu` as for any publisher, and a page publisher is refused meanwhile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startStandin } from '../support/realtime.mjs';
import { startWhipClient } from '../support/whip-client.mjs';
import { launchBrowser, openPage } from '../support/browser.mjs';
import { mintToken } from '../../scripts/token.mjs';

const TOKEN_SECRET = 'whip-page-token-secret-of-at-least-32-bytes';

let standin;
let server;
let browser;
before(async () => {
  standin = await startStandin();
  // Publishers need a token; the page's subscribers do not.
  server = await startServer({
    bindings: { ...standin.bindings, SFU_MODE: 'auto', TOKEN_SECRET, PUBLISH_AUTH: 'token', SUBSCRIBE_AUTH: 'open' },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await standin?.stop();
});

/** Resolves once the subscriber page plays the SFU's stream and its video bytes grow. */
async function playsFromTheSfu(page, timeout = 30_000) {
  await page.waitForFunction(
    () => {
      const { sfu } = window.namedStreams;
      const video = document.getElementById('remote');
      return sfu?.pc?.connectionState === 'connected' && video.videoWidth > 0 && !video.paused;
    },
    null,
    { timeout },
  );
  // Video bytes on the SFU connection grow (checked in the page: a waitForFunction predicate
  // cannot await getStats).
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
    while ((await bytes()) <= first) {
      if (performance.now() - start > timeout) throw new Error('no video bytes from the SFU');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }, timeout);
  return page.evaluate(() => document.getElementById('remote').videoWidth);
}

test('simple-whip-client publishes into a named stream with its token; two subscribers on the page receive its media', async () => {
  const stream = '/whip/page-ball';
  const token = mintToken({ secret: TOKEN_SECRET, path: stream, mode: 'publish', exp: Math.floor(Date.now() / 1000) + 600 });
  const whipUrl = new URL(`/api/whip${stream}`, server.url).href;

  // Without the token, the encoder is refused and nothing starts.
  const refused = await fetch(whipUrl, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0\r\n' });
  assert.equal(refused.status, 401);
  assert.match(await refused.text(), /^token-missing: /);

  const pages = [];
  const whip = startWhipClient(whipUrl, { token });
  try {
    // One subscriber waits for the encoder; the other arrives while it publishes.
    pages.push(await openPage(browser, server, `?subscribe=${encodeURIComponent(stream)}&ice=none`));
    await whip.connected;
    pages.push(await openPage(browser, server, `?subscribe=${encodeURIComponent(stream)}&ice=none`));
    for (const page of pages) assert.equal(await playsFromTheSfu(page), 320);

    const status = await (await fetch(new URL(`/api/streams${stream}`, server.url))).json();
    assert.deepEqual([status.live, status.mode, status.subscribers], [true, 'sfu', 2]);
    const video = (await standin.stats()).sessions.flatMap((s) => s.tracks).find((t) => t.location === 'local' && t.kind === 'video');
    assert.equal(video.pullers, 2);
    // The encoder is the stream's publisher: a page publisher (with a valid token) is refused.
    const second = await openPage(browser, server, `?publish=${encodeURIComponent(stream)}&token=${token}&ice=none`);
    pages.push(second);
    await second.waitForFunction(() => /already publishing on this stream/i.test(document.body.textContent), null, { timeout: 15_000 });
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
    await whip.stop();
  }
  assert.equal((await (await fetch(new URL(`/api/streams${stream}`, server.url))).json()).live, false);
  assert.deepEqual(await standin.violations(), []);
});
