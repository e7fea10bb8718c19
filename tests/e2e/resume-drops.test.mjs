// Resume after the two ways a network drops a connection, made for real by the test proxy: a TCP
// reset (the server sees the socket die) and a silent drop (the connection stays open and carries
// nothing, so the server still holds a zombie when the client comes back).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { clientFrame } from '../support/raw.mjs';
import { join, joinThrough, joinRawThrough, resume, assertSilent, notifies } from '../support/resume.mjs';

let server;
let proxy;
before(async () => {
  server = await startServer({ bindings: { RESUME_GRACE_SECONDS: '10' } });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

test('after a TCP reset the publisher resumes with its id and the gap frames; subscribers see nothing', async () => {
  const p = '/drops/reset';
  const { client: pub, link } = await joinThrough(proxy, p, 'publish');
  const s1 = await join(server.wsBase, p, 'subscribe');
  const s2 = await join(server.wsBase, p, 'subscribe');
  for (const s of [s1, s2]) {
    await s.event('published', pub.id);
    await pub.event('subscribed', s.id);
  }

  link.sever();
  // The client saw its connection die without a close frame.
  assert.equal((await pub.closed).code, 1006);
  s1.send({ method: 'NOTIFY', to: pub.id, data: { n: 1 } });
  s2.send({ method: 'NOTIFY', to: pub.id, data: { n: 2 } });
  s1.send({ method: 'NOTIFY', to: pub.id, data: { n: 3 } });

  // Back through the proxy, as a client on the same network would come.
  const back = await resume(proxy.wsBase, p, 'publish', pub.resume, pub.id);
  const got = await notifies(back, 3);
  assert.deepEqual(
    got.map((f) => [f.from, f.data.n]),
    [
      [s1.id, 1],
      [s2.id, 2],
      [s1.id, 3],
    ],
  );
  await assertSilent([back, s1, s2], 300, 'nobody heard of the absence');

  // Still the stream's publisher, both ways.
  back.send({ method: 'NOTIFY', to: s2.id, data: 'live' });
  assert.deepEqual(await s2.next(), { method: 'NOTIFY', from: pub.id, data: 'live' });
  s1.send({ method: 'NOTIFY', to: pub.id, data: 'live' });
  assert.deepEqual(await back.next(), { method: 'NOTIFY', from: s1.id, data: 'live' });
  await Promise.all([back, s1, s2].map((c) => c.close()));
});

test('after a silent drop the resume takes over from the zombie, which gets replaced (4032) once thawed', async () => {
  const p = '/drops/freeze';
  const pub = await joinRawThrough(proxy, p, 'publish');
  const sub = await join(server.wsBase, p, 'subscribe');
  await sub.event('published', pub.id);
  await pub.reader.next((f) => f.data?.type === 'subscribed' && f.data.id === sub.id);

  pub.link.freeze();
  // Sent to the zombie: the server cannot know it is lost, and resume does not replay it.
  sub.send({ method: 'NOTIFY', to: pub.id, data: 'to the zombie' });
  // The client gives the old connection up with a goodbye that waits in the frozen link: once
  // it arrives, after the takeover, it must not end the member.
  pub.socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));

  // The client's heartbeat would notice the silence; it comes back on a new connection.
  const back = await resume(server.wsBase, p, 'publish', pub.resume, pub.id);
  sub.send({ method: 'NOTIFY', to: pub.id, data: 'to the new connection' });
  assert.deepEqual(await back.next(), { method: 'NOTIFY', from: sub.id, data: 'to the new connection' });

  // The frozen connection was open all along: thawed, it delivers what the server left on it,
  // the frame sent before the takeover, then the `replaced` error and close, and nothing else.
  assert.deepEqual(pub.reader.frames, [], 'nothing crossed the frozen link');
  pub.link.thaw();
  assert.deepEqual(await pub.reader.next(), { method: 'NOTIFY', from: sub.id, data: 'to the zombie' });
  assert.match((await pub.reader.next()).reason, /^replaced: /);
  assert.deepEqual(await pub.reader.nextClose(), { code: 4032, reason: 'replaced' });
  assert.deepEqual(pub.reader.frames, []);
  pub.socket.destroy();

  await assertSilent([back, sub], 500, 'the takeover and the zombie\'s goodbye are invisible');
  // The zombie's end changed nothing: the member is live on its new connection.
  back.send({ method: 'NOTIFY', to: sub.id, data: 'still here' });
  assert.deepEqual(await sub.next(), { method: 'NOTIFY', from: pub.id, data: 'still here' });
  await Promise.all([back, sub].map((c) => c.close()));
});
