// When the browser blocks autoplay, the subscriber page offers a Play button that starts the
// video. Chromium's own policy lets silent media start (and a stream's video track can arrive
// before its audio track), so whether a real block happens depends on timing; the page's first
// play() is made to fail the way a blocked one does (and the autoplay attribute is dropped),
// so the test always takes the blocked path.
import { test, before, after } from 'node:test';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage, waitForStatus } from '../support/browser.mjs';

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

test('a blocked autoplay shows Play, and Play starts the video', async () => {
  const path = '/browser/autoplay';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const context = await browser.newContext();
  await context.addInitScript(() => {
    // A blocked browser neither honours the autoplay attribute nor the first play().
    document.addEventListener('DOMContentLoaded', () => document.getElementById('remote').removeAttribute('autoplay'));
    const play = HTMLMediaElement.prototype.play;
    let blocked = false;
    HTMLMediaElement.prototype.play = function () {
      if (!blocked) {
        blocked = true;
        return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
      }
      return play.call(this);
    };
  });
  const subscriber = await context.newPage();
  await subscriber.goto(new URL(`/?subscribe=${path}&ice=none`, server.url).toString());
  try {
    await waitForStatus(subscriber, 'live');
    await subscriber.waitForSelector('#play:not([hidden])');
    await subscriber.click('#play');
    await subscriber.waitForFunction(() => {
      const video = document.getElementById('remote');
      return !video.paused && video.videoWidth > 0;
    });
    await subscriber.waitForSelector('#play', { state: 'hidden' });
  } finally {
    await publisher.context().close();
    await context.close();
  }
});
