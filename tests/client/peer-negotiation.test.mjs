// peer.js without a browser: the perfect negotiation rule, unusable signaling messages, failures
// reaching onError, and a peer dropped while its ICE configuration is fetched (issue 14, item 2).
// A fake RTCPeerConnection (tests/support/fake-webrtc.mjs) holds operations at gates, so each
// interleaving is made on purpose rather than hoped for.
import { test, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createMesh, createPeer, parseSignal } from '../../public/js/peer.js';
import { deferred, FakePeerConnection, FakeSignaling, recordingLogger } from '../support/fake-webrtc.mjs';

const offer = (sdp = 'remote offer') => ({ description: { type: 'offer', sdp } });
const answer = { description: { type: 'answer', sdp: 'remote answer' } };
const candidate = { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 } };

/** Rejections nobody handled, caught for the test that made them. */
let unhandled;
const onUnhandled = (reason) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  FakePeerConnection.instances = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  // Rejections are reported after a macrotask turn.
  await new Promise((resolve) => setImmediate(resolve));
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no promise was left rejected');
});

/** A peer on `signaling` with the fake connection; failures recorded. */
function peerOf(signaling, remoteId, extra = {}) {
  const errors = [];
  const logger = recordingLogger();
  const peer = createPeer({
    signaling,
    remoteId,
    configuration: { iceServers: [] },
    RTCPeerConnection: FakePeerConnection,
    onError: (error, where) => errors.push({ error, ...where }),
    logger,
    ...extra,
  });
  return { peer, pc: /** @type {FakePeerConnection} */ (peer.pc), errors, logger };
}

const descriptionsSent = (signaling) => signaling.sent.filter((m) => m.data.description).map((m) => m.data.description.type);

test('an impolite side applying an answer takes a new offer that arrives meanwhile (the pending-answer term)', async () => {
  // 'a' < 'b': the side with id 'a' is impolite.
  const signaling = new FakeSignaling({ id: 'a', mode: 'publish' });
  const { peer, pc, errors } = peerOf(signaling, 'b');
  assert.equal(peer.polite, false);
  await pc.onnegotiationneeded();
  assert.equal(pc.signalingState, 'have-local-offer');
  // The remote side's answer is being applied (held), and its next offer (an ICE restart,
  // a new track) arrives before that settles. It is no collision: once the answer is applied
  // the connection is stable, so the offer must be answered, not ignored.
  const gate = deferred();
  pc.gates.set('setRemote:answer', gate.promise);
  const answered = peer.handle(answer);
  const offered = peer.handle(offer('second offer'));
  assert.equal(pc.signalingState, 'have-local-offer', 'the answer is still pending');
  gate.resolve();
  await Promise.all([answered, offered]);
  assert.deepEqual(pc.calls, ['setLocal', 'setRemote:answer', 'setRemote:offer', 'setLocal']);
  assert.deepEqual(descriptionsSent(signaling), ['offer', 'answer']);
  assert.equal(pc.signalingState, 'stable');
  assert.deepEqual(errors, []);
});

test('glare: the impolite side ignores the crossing offer and its candidates; the polite side rolls back and answers', async () => {
  const impolite = new FakeSignaling({ id: 'a', mode: 'publish' });
  const polite = new FakeSignaling({ id: 'b', mode: 'subscribe' });
  const A = peerOf(impolite, 'b');
  const B = peerOf(polite, 'a');
  assert.equal(B.peer.polite, true);
  // Both sides offer at once (both restarted ICE, say).
  await Promise.all([A.pc.onnegotiationneeded(), B.pc.onnegotiationneeded()]);
  const [offerA] = impolite.sent.map((m) => m.data);
  const [offerB] = polite.sent.map((m) => m.data);
  await A.peer.handle(offerB);
  await A.peer.handle(candidate); // a candidate of the ignored offer: no error
  assert.deepEqual(A.pc.calls, ['setLocal', 'addIce']);
  await B.peer.handle(offerA);
  assert.deepEqual(descriptionsSent(polite), ['offer', 'answer']);
  await A.peer.handle({ description: polite.sent.at(-1).data.description });
  assert.equal(A.pc.signalingState, 'stable');
  assert.equal(B.pc.signalingState, 'stable');
  assert.deepEqual([...A.errors, ...B.errors], []);
});

test('an offer while this side is making its own is a collision even in the stable state', async () => {
  const signaling = new FakeSignaling({ id: 'a', mode: 'publish' });
  const { peer, pc } = peerOf(signaling, 'b');
  const gate = deferred();
  pc.gates.set('setLocal', gate.promise);
  const making = pc.onnegotiationneeded();
  assert.equal(pc.signalingState, 'stable');
  await peer.handle(offer());
  gate.resolve();
  await making;
  assert.deepEqual(pc.calls, ['setLocal'], 'the impolite side ignored the offer');
});

test('NOTIFYs whose data is null or malformed are ignored with a logged reason, never thrown', async () => {
  const signaling = new FakeSignaling({ id: 'a', mode: 'subscribe' });
  const logger = recordingLogger();
  const errors = [];
  const mesh = createMesh({ signaling, RTCPeerConnection: FakePeerConnection, logger, onError: (e) => errors.push(e) });
  signaling.emit('published', { id: 'p' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(mesh.peers.size, 1);
  const [pc] = FakePeerConnection.instances;
  const bad = [
    null,
    'offer',
    42,
    [],
    {},
    { description: null },
    { description: 'v=0' },
    { description: { type: 'bogus', sdp: 'x' } },
    { description: { type: 'offer' } },
    { candidate: null },
    { candidate: 7 },
    { candidate: { sdpMid: '0' } },
  ];
  for (const data of bad) signaling.emit('notify', { from: 'p', data });
  // And from a peer this side does not know: not buffered, not thrown.
  signaling.emit('notify', { from: 'stranger', data: null });
  signaling.emit('notify', { from: 'stranger', data: offer() });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(pc.calls, [], 'nothing reached the connection');
  assert.equal(logger.lines.length, bad.length + 2);
  assert.match(logger.lines[0], /^peer p: ignored a signaling message: data is null, not an object$/);
  assert.match(logger.lines[4], /neither a description nor a candidate/);
  assert.match(logger.lines.at(-1), /peer stranger: .*not connected/);
  assert.deepEqual(errors, []);
  // The peer still works after all that.
  signaling.emit('notify', { from: 'p', data: offer() });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(pc.calls, ['setRemote:offer', 'setLocal']);
  mesh.close();
});

test('parseSignal names what is wrong and passes good signals through', () => {
  assert.deepEqual(parseSignal(offer()), { ok: true, signal: offer() });
  assert.deepEqual(parseSignal(candidate), { ok: true, signal: candidate });
  assert.deepEqual(parseSignal(null), { ok: false, reason: 'data is null, not an object' });
  assert.deepEqual(parseSignal({ description: { type: 'answer', sdp: 5 } }), { ok: false, reason: 'description has no sdp text' });
});

test('a failure applying a description goes to onError, not into the event loop', async () => {
  const signaling = new FakeSignaling({ id: 'b', mode: 'subscribe' });
  const { peer, pc, errors } = peerOf(signaling, 'a');
  const broken = new DOMException('bad sdp', 'OperationError');
  pc.failures.set('setRemote:offer', broken);
  await peer.handle(offer());
  assert.equal(errors.length, 1);
  assert.equal(errors[0].error, broken);
  assert.equal(errors[0].stage, 'description');
  assert.equal(errors[0].remoteId, 'a');
  // A failing offer of its own too.
  pc.failures.set('setLocal', new Error('no codecs'));
  await pc.onnegotiationneeded();
  assert.equal(errors.at(-1).stage, 'negotiation');
});

test('a candidate that cannot be applied is a failure unless its offer was ignored', async () => {
  const signaling = new FakeSignaling({ id: 'b', mode: 'subscribe' });
  const { peer, errors } = peerOf(signaling, 'a');
  await peer.handle(candidate); // no remote description yet
  assert.equal(errors.length, 1);
  assert.equal(errors[0].stage, 'candidate');
});

test('a peer dropped while its ICE configuration is being fetched is not connected afterwards', async () => {
  const fetched = deferred();
  const signaling = new FakeSignaling({ id: 's', mode: 'subscribe', configuration: () => fetched.promise });
  const logger = recordingLogger();
  const mesh = createMesh({ signaling, RTCPeerConnection: FakePeerConnection, logger });
  signaling.emit('published', { id: 'p' });
  // Its offer overtakes the configuration, then it leaves.
  signaling.emit('notify', { from: 'p', data: offer() });
  signaling.emit('unpublished', { id: 'p' });
  fetched.resolve({ iceServers: [{ urls: 'stun:127.0.0.1' }], ttl: 0 });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(mesh.peers.size, 0, 'no peer');
  assert.equal(FakePeerConnection.instances.length, 0, 'no RTCPeerConnection was made');
  assert.deepEqual(signaling.sent, [], 'nothing was sent to it');
  mesh.close();
});

test('a fresh join while a configuration is fetched drops the peers being opened too', async () => {
  const fetched = deferred();
  const signaling = new FakeSignaling({ id: 'pub', mode: 'publish', configuration: () => fetched.promise });
  const mesh = createMesh({ signaling, RTCPeerConnection: FakePeerConnection, logger: recordingLogger() });
  signaling.emit('subscribed', { id: 's1' });
  signaling.emit('state', { state: 'fresh-join' });
  fetched.resolve({ iceServers: [] });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(mesh.peers.size, 0);
  assert.equal(FakePeerConnection.instances.length, 0);
  mesh.close();
});

test('signals that arrive while the configuration is fetched are applied in order once the peer exists', async () => {
  const fetched = deferred();
  const signaling = new FakeSignaling({ id: 's', mode: 'subscribe', configuration: () => fetched.promise });
  const mesh = createMesh({ signaling, RTCPeerConnection: FakePeerConnection, logger: recordingLogger() });
  signaling.emit('published', { id: 'p' });
  signaling.emit('notify', { from: 'p', data: offer() });
  signaling.emit('notify', { from: 'p', data: candidate });
  fetched.resolve({ iceServers: [] });
  await new Promise((resolve) => setImmediate(resolve));
  const [pc] = FakePeerConnection.instances;
  assert.deepEqual(pc.calls, ['setRemote:offer', 'addIce', 'setLocal']);
  await pc.chain;
  assert.deepEqual(descriptionsSent(signaling), ['answer']);
  mesh.close();
});

test('a failed ICE configuration request is reported once, and the peer connects without servers', async () => {
  const signaling = new FakeSignaling({ id: 's', mode: 'subscribe', configuration: () => Promise.reject(new Error('not connected')) });
  const errors = [];
  const mesh = createMesh({ signaling, RTCPeerConnection: FakePeerConnection, onError: (error, where) => errors.push(where) });
  signaling.emit('published', { id: 'p' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(errors, [{ remoteId: null, stage: 'ice-servers' }]);
  assert.deepEqual(FakePeerConnection.instances[0].configuration, { iceServers: [] });
  mesh.close();
});
