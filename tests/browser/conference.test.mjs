// Conferences (`?room=`, issue 16): each participant publishes its own stream under the room,
// watches the room and receives every other participant; tiles follow people as they join and
// leave. Chromium with fake camera and microphone.
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
const freshRoom = () => `/rooms/browser-${++n}`;

/** Opens a participant's page and waits until it publishes; resolves with it and its stream. */
async function join(room) {
  const page = await openPage(browser, server, `?room=${encodeURIComponent(room)}&ice=none`);
  await page.waitForFunction(() => window.namedStreams.conference?.own?.outcome === 'published');
  const path = await page.evaluate(() => window.namedStreams.conference.mine);
  return { page, path };
}

/** Waits until `who` has exactly the tiles of `others` (and its own), receiving video from each. */
async function receivesExactly(who, others) {
  const expected = others.map((o) => o.path).sort();
  await who.page.waitForFunction(
    (paths) => {
      const { participants } = window.namedStreams.conference;
      const tiles = [...document.querySelectorAll('#tiles .tile')].map((t) => t.dataset.peer).sort();
      return JSON.stringify([...participants.keys()].sort()) === JSON.stringify(paths) && JSON.stringify(tiles) === JSON.stringify(['', ...paths]);
    },
    expected,
    { timeout: 30_000 },
  );
  await Promise.all(expected.map((path) => videoGrows(who.page, path)));
}

test('three participants receive each other; one leaves and the tiles follow; a fourth joins and everyone receives it', async () => {
  const room = freshRoom();
  const pages = [];
  try {
    const people = [];
    for (let i = 0; i < 3; i++) {
      const person = await join(room);
      pages.push(person.page);
      people.push(person);
    }
    assert.equal(new Set(people.map((p) => p.path)).size, 3);
    for (const p of people) assert.match(p.path, new RegExp(`^${room}/[0-9a-f]{8}$`));
    // Every participant receives both others' media.
    await Promise.all(people.map((p) => receivesExactly(p, people.filter((o) => o !== p))));
    await Promise.all(people.map((p) => waitForStatus(p.page, 'live')));
    assert.match(await people[0].page.locator('#status').innerText(), /2 others/);

    // One leaves (the tab closes): the others' tiles for it go, their media carries on.
    const [leaving, ...staying] = people;
    await leaving.page.context().close();
    await Promise.all(staying.map((p) => receivesExactly(p, staying.filter((o) => o !== p))));

    // A fourth joins: the two who stayed receive it, and it receives both of them.
    const fourth = await join(room);
    pages.push(fourth.page);
    const now = [...staying, fourth];
    await Promise.all(now.map((p) => receivesExactly(p, now.filter((o) => o !== p))));
  } finally {
    await closeAll(pages);
  }
});

test('mute and camera buttons switch off your own tracks on the connections to the others', async () => {
  const room = freshRoom();
  const pages = [];
  try {
    const a = await join(room);
    const b = await join(room);
    pages.push(a.page, b.page);
    await receivesExactly(b, [a]);
    await a.page.click('#room-mute');
    await a.page.click('#room-camera');
    assert.equal(await a.page.getAttribute('#room-mute', 'aria-pressed'), 'true');
    assert.equal(await a.page.getAttribute('#room-camera', 'aria-pressed'), 'true');
    assert.deepEqual(
      await a.page.evaluate(() => window.namedStreams.conference.own.mesh.peers.size > 0 && [...window.namedStreams.conference.own.mesh.peers.values()][0].pc.getSenders().map((s) => s.track?.enabled)),
      [false, false],
    );
    await a.page.click('#room-mute');
    assert.equal(await a.page.innerText('#room-mute'), 'Mute');
  } finally {
    await closeAll(pages);
  }
});

test('a full room (MAX_ROOM_WATCHERS) is said while the page keeps trying, and joined when a place frees', async () => {
  const small = await startServer({ bindings: { MAX_ROOM_WATCHERS: '1' } });
  const room = freshRoom();
  const pages = [];
  try {
    const first = await openPage(browser, small, `?room=${encodeURIComponent(room)}&ice=none`);
    pages.push(first);
    await first.waitForFunction(() => window.namedStreams.conference?.own?.outcome === 'published');
    const second = await openPage(browser, small, `?room=${encodeURIComponent(room)}&ice=none`);
    pages.push(second);
    await second.waitForFunction(() => document.body.dataset.refusal === 'room-full');
    assert.equal(await second.evaluate(() => document.body.dataset.status), 'reconnecting');
    assert.match(await second.innerText('#status'), /keeps trying/);
    await first.context().close();
    await second.waitForFunction(() => window.namedStreams.conference?.own?.outcome === 'published', null, { timeout: 30_000 });
    assert.equal(await second.evaluate(() => document.body.dataset.refusal), undefined);
  } finally {
    await closeAll(pages);
    await small.stop();
  }
});
