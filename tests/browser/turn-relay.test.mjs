// A call relayed through a real TURN server (Debian's coturn) with credentials the Worker mints:
// with iceTransportPolicy "relay" the only way media can flow is through coturn, so media
// arriving proves coturn accepted the credentials; a wrong secret must make the call fail.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startCoturn } from '../support/coturn.mjs';
import { launchBrowser, openPage, waitForStatus, waitForMedia } from '../support/browser.mjs';

const SECRET = 'turn-e2e-shared-secret';
let coturn;
let browser;
const servers = [];
before(async () => {
  coturn = await startCoturn({ secret: SECRET });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => s.stop()));
  await coturn?.stop();
});

async function worker(secret) {
  const server = await startServer({
    // TURN_OPEN: the pages are anonymous (no token), and who gets credentials is tested in
    // tests/e2e/ice-turn-access.test.mjs; here it is what coturn makes of them.
    bindings: { ICE_SERVERS: '[]', TURN_URLS: coturn.url, TURN_SECRET: secret, TURN_TTL: '600', TURN_OPEN: 'true' },
  });
  servers.push(server);
  return server;
}

/** Types of the local and remote candidates of the pair in use on the page's first peer. */
function selectedPair(page) {
  return page.evaluate(async () => {
    const [peer] = window.namedStreams.mesh.peers.values();
    const stats = await peer.pc.getStats();
    let pair;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    return { local: stats.get(pair.localCandidateId).candidateType, remote: stats.get(pair.remoteCandidateId).candidateType };
  });
}

test('publisher and two subscribers talk only through coturn with minted credentials', async () => {
  const server = await worker(SECRET);
  const path = '/turn/relay';
  const pages = [];
  try {
    const publisher = await openPage(browser, server, `?publish=${path}&relay=1`);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    for (let i = 0; i < 2; i++) pages.push(await openPage(browser, server, `?subscribe=${path}&relay=1`));
    for (const sub of pages.slice(1)) {
      await waitForMedia(sub, 30_000);
      assert.deepEqual(await selectedPair(sub), { local: 'relay', remote: 'relay' });
    }
    // The configuration the page used really came from the Worker, with a TTL to refresh by.
    const conf = await publisher.evaluate(() => window.namedStreams.client.getConfiguration());
    assert.equal(conf.ttl, 600);
    assert.match(conf.iceServers[0].username, /^\d+:[0-9a-f]{24}$/);
    // coturn logged authenticated allocations for these users.
    // coturn allocated relays for users named by the Worker's credentials (<expiry>:<peer id>).
    const publisherId = await publisher.evaluate(() => window.namedStreams.client.id);
    assert.match(coturn.log.join(''), new RegExp(`user <\\d+:${publisherId}>: incoming packet ALLOCATE processed, success`));
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});

test('credentials minted with the wrong secret are refused by coturn: no relay, no media', async () => {
  const server = await worker('not-the-coturn-secret');
  const path = '/turn/wrong-secret';
  const pages = [];
  try {
    const publisher = await openPage(browser, server, `?publish=${path}&relay=1`);
    pages.push(publisher);
    await waitForStatus(publisher, 'live');
    const sub = await openPage(browser, server, `?subscribe=${path}&relay=1`);
    pages.push(sub);
    // Wait until the publisher's connection has finished gathering: with every TURN request
    // refused it ends with no relay candidate, so nothing can ever connect.
    await publisher.waitForFunction(
      () => {
        const [peer] = window.namedStreams.mesh.peers.values();
        return peer?.pc.iceGatheringState === 'complete';
      },
      null,
      { timeout: 30_000 },
    );
    const outcome = await publisher.evaluate(async () => {
      const [peer] = window.namedStreams.mesh.peers.values();
      const stats = await peer.pc.getStats();
      let relayCandidates = 0;
      stats.forEach((s) => {
        if (s.type === 'local-candidate' && s.candidateType === 'relay') relayCandidates += 1;
      });
      return { relayCandidates, state: peer.pc.connectionState };
    });
    assert.equal(outcome.relayCandidates, 0);
    assert.notEqual(outcome.state, 'connected');
    assert.notEqual(await sub.evaluate(() => document.body.dataset.status), 'live');
    const publisherId = await publisher.evaluate(() => window.namedStreams.client.id);
    const forPublisher = coturn.log.join('').split('\n').filter((l) => l.includes(`:${publisherId}>`));
    assert.ok(forPublisher.some((l) => /error 401/.test(l)), 'coturn did not refuse the credentials');
    assert.ok(!forPublisher.some((l) => /ALLOCATE processed, success/.test(l)));
  } finally {
    await Promise.all(pages.map((p) => p.context().close()));
  }
});
