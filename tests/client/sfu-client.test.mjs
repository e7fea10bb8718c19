// sfu.js without a browser: the `sfu` event's checks, the publisher's mesh taking no new
// subscriber once the stream is on the SFU, and the `{"sfu":"moved"}` NOTIFY that lets the
// publisher close its mesh side. Real media through the SFU: tests/browser/sfu.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSfu, parseEvent, MOVED } from '../../public/js/sfu.js';
import { FakePeerConnection, FakeSignaling } from '../support/fake-webrtc.mjs';

const saved = { RTCPeerConnection: globalThis.RTCPeerConnection, MediaStream: globalThis.MediaStream };
before(() => {
  globalThis.RTCPeerConnection = FakePeerConnection;
  globalThis.MediaStream = class {
    addTrack() {}
    getTracks() {
      return [];
    }
  };
});
after(() => {
  Object.assign(globalThis, saved);
});

/** A signaling stand-in with a URL, and a fetch that records calls and never answers. */
function setup(mode, extra = {}) {
  const signaling = new FakeSignaling({ id: 'me', mode });
  signaling.url = new URL('ws://127.0.0.1:8787/live/cam?mode=' + mode);
  const calls = [];
  const errors = [];
  const moved = [];
  const sfu = createSfu({
    signaling,
    configuration: { iceServers: [] },
    fetch: (url, init) => {
      calls.push({ url: String(url), init });
      return new Promise(() => {});
    },
    onError: (err) => errors.push(err),
    onPeerMoved: (id) => moved.push(id),
    ...extra,
  });
  return { signaling, sfu, calls, errors, moved };
}

test('the sfu event is checked before anything is requested', () => {
  assert.deepEqual(parseEvent({ ticket: 't.abc' }), { ticket: 't.abc', session: null, tracks: [] });
  assert.deepEqual(parseEvent({ ticket: 't', session: 'a1b2', tracks: ['video-1'] }), { ticket: 't', session: 'a1b2', tracks: ['video-1'] });
  for (const bad of [
    null,
    'sfu',
    {},
    { ticket: '' },
    { ticket: 'with space' },
    { ticket: 'x'.repeat(513) },
    { ticket: 't', session: '../../evil' },
    { ticket: 't', session: 5 },
    { ticket: 't', tracks: 'video' },
    { ticket: 't', tracks: [''] },
    { ticket: 't', tracks: [7] },
    { ticket: 't', tracks: Array(65).fill('a') },
  ]) {
    assert.equal(parseEvent(bad), null, JSON.stringify(bad));
  }

  const { signaling, calls, errors } = setup('subscribe');
  signaling.emit('sfu', { ticket: 't', session: 'x/../y', tracks: ['a'] });
  assert.equal(calls.length, 0);
  assert.equal(errors.length, 1);
});

test('a subscriber pulls through the proxy of its own stream, with its ticket', async () => {
  const { signaling, calls } = setup('subscribe');
  signaling.emit('sfu', { ticket: 'sub.ticket', session: 'pubsession', tracks: ['audio-0', 'video-1'] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(calls.length, 1);
  assert.equal(calls[0].url, 'http://127.0.0.1:8787/api/sfu/live/cam/sessions/new');
  assert.equal(calls[0].init.headers.authorization, 'Bearer sub.ticket');
  assert.equal(calls[0].init.method, 'POST');
});

test("once the stream is on the SFU, the publisher's mesh hears of no new subscriber", () => {
  const { signaling, sfu } = setup('publish');
  const mesh = sfu.meshSignaling();
  const heard = [];
  mesh.on('subscribed', ({ id }) => heard.push(id));
  mesh.on('unsubscribed', ({ id }) => heard.push(`-${id}`));
  assert.equal(mesh.id, 'me');
  assert.equal(mesh.mode, 'publish');
  signaling.emit('subscribed', { id: 'a' });
  signaling.emit('sfu', { ticket: 'pub.ticket' });
  assert.equal(sfu.active, true);
  signaling.emit('subscribed', { id: 'b' });
  signaling.emit('unsubscribed', { id: 'a' });
  assert.deepEqual(heard, ['a', '-a']);
  mesh.notify('a', { x: 1 });
  assert.deepEqual(signaling.sent, [{ to: 'a', data: { x: 1 } }]);
});

test('the publisher closes its mesh side of a subscriber that says it moved, and only then', () => {
  const { signaling, moved } = setup('publish');
  signaling.emit('notify', { from: 'a', data: { description: { type: 'answer', sdp: '' } } });
  signaling.emit('notify', { from: 'b', data: MOVED });
  signaling.emit('notify', { from: 'c', data: { sfu: 'stay' } });
  assert.deepEqual(moved, ['b']);
});
