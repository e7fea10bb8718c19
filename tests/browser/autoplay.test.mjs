// When the browser blocks autoplay with sound, the viewer's video starts muted and offers "Tap to
// unmute"; when it blocks even that, a Play button. Chromium's own policy lets silent media
// start (and a stream's video track can arrive before its audio track), so whether a real block
// happens depends on timing; the page's first play() calls are made to fail the way blocked
// ones do (and the autoplay attribute is dropped), so each test takes the path it names.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

/** A viewer page whose first `blocked` play() calls fail as a browser's autoplay policy does. */
async function blockedViewer(path, blocked) {
  const context = await browser.newContext();
  await context.addInitScript((blocked) => {
    // A blocked browser neither honours the autoplay attribute nor the first play().
    document.addEventListener('DOMContentLoaded', () => document.getElementById('remote').removeAttribute('autoplay'));
    const play = HTMLMediaElement.prototype.play;
    let refused = 0;
    HTMLMediaElement.prototype.play = function () {
      if (refused < blocked) {
        refused += 1;
        return Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError'));
      }
      return play.call(this);
    };
  }, blocked);
  const page = await context.newPage();
  await page.goto(new URL(`/?subscribe=${path}&ice=none`, server.url).toString());
  return page;
}

const playing = (page) =>
  page.waitForFunction(() => {
    const video = document.getElementById('remote');
    return !video.paused && video.videoWidth > 0;
  });

test('autoplay with sound blocked: the video plays muted, and one tap unmutes it', async () => {
  const path = '/browser/autoplay-muted';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await blockedViewer(path, 1);
  try {
    await waitForStatus(viewer, 'live');
    await playing(viewer);
    await viewer.waitForSelector('#unmute:not([hidden])');
    assert.equal(await viewer.evaluate(() => document.body.dataset.audio), 'muted-by-browser');
    assert.equal(await viewer.evaluate(() => document.getElementById('remote').muted), true);
    assert.equal(await viewer.textContent('#sound'), 'Unmute');
    await viewer.click('#unmute');
    await viewer.waitForSelector('#unmute', { state: 'hidden' });
    assert.equal(await viewer.evaluate(() => document.getElementById('remote').muted), false);
    assert.equal(await viewer.textContent('#sound'), 'Mute');
    assert.equal(await viewer.evaluate(() => document.getElementById('remote').paused), false);
  } finally {
    await publisher.context().close();
    await viewer.context().close();
  }
});

test('autoplay blocked even muted: Play starts the video', async () => {
  const path = '/browser/autoplay';
  const publisher = await openPage(browser, server, `?publish=${path}&ice=none`);
  const viewer = await blockedViewer(path, 2);
  try {
    await waitForStatus(viewer, 'live');
    await viewer.waitForSelector('#play:not([hidden])');
    assert.equal(await viewer.evaluate(() => document.body.dataset.audio), 'blocked');
    await viewer.click('#play');
    await playing(viewer);
    await viewer.waitForSelector('#play', { state: 'hidden' });
  } finally {
    await publisher.context().close();
    await viewer.context().close();
  }
});
