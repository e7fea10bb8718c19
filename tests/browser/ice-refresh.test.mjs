// Long sessions outlive minted TURN credentials: the mesh asks the server again at 80% of the
// TTL and hands the fresh ICE servers to every open peer connection (then restarts ICE).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { launchBrowser, openPage } from '../support/browser.mjs';

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

test('credentials are refreshed before they expire', async () => {
  const page = await openPage(browser, server, '');
  try {
    const result = await page.evaluate(async () => {
      const { createMesh } = await import('/js/peer.js');
      // A signaling stand-in that answers GET /peerconnection with credentials living 1 s.
      const signaling = new EventTarget();
      let asked = 0;
      const answered = [];
      const nthAnswer = (n) => new Promise((resolve) => (answered[n] = resolve));
      const first = nthAnswer(1);
      const second = nthAnswer(2);
      // Lets the mesh finish what it does with an answer (a few awaits) before looking.
      const settle = () => new Promise((r) => setTimeout(r, 0));
      Object.assign(signaling, {
        id: 'b',
        mode: 'publish',
        on(type, fn) {
          this.addEventListener(type, (e) => fn(e.detail));
          return this;
        },
        notify() {
          return true;
        },
        async getConfiguration() {
          asked += 1;
          queueMicrotask(() => answered[asked]?.());
          return { iceServers: [{ urls: 'turn:127.0.0.1:9', username: `user-${asked}`, credential: 'x' }], ttl: 1 };
        },
      });
      const local = await navigator.mediaDevices.getUserMedia({ video: true });
      const mesh = createMesh({ signaling, localStream: local });
      signaling.dispatchEvent(new CustomEvent('subscribed', { detail: { id: 'a' } }));
      const usernames = () =>
        [...mesh.peers.values()].map((p) => p.pc.getConfiguration().iceServers[0]?.username);
      await first;
      await settle();
      const before = usernames();
      // Due at 80% of the 1 s TTL.
      const started = performance.now();
      await second;
      const waited = performance.now() - started;
      await settle();
      const after = usernames();
      mesh.close();
      return { asked, before, after, waited };
    });
    assert.deepEqual(result.before, ['user-1']);
    assert.equal(result.asked, 2);
    // Not at once: the refresh waits for most of the lifetime (80% of it by design).
    assert.ok(result.waited > 500, `refreshed after ${result.waited} ms`);
    assert.deepEqual(result.after, [`user-${result.asked}`]);
  } finally {
    await page.context().close();
  }
});
