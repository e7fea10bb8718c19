// SFU mode on the Worker side (issue 12): the `sfu` event, the Connection API proxy and its
// rules, WHIP ingest and WHEP playback, against the real runtime and the Realtime SFU stand-in
// (werift). Media itself is the browser tests' business; here every body the Worker sends must
// be the documented shape (the stand-in records any that is not), and every refusal gets its
// documented code and changes nothing: the stand-in sees no request, the stream's members hear
// nothing, its status is as before.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, MediaStreamTrack } from 'werift';
import { startServer } from '../support/server.mjs';
import { startStandin } from '../support/realtime.mjs';
import { join, refusal } from '../support/access.mjs';
import { mintToken } from '../../scripts/token.mjs';

const TOKEN_SECRET = 'sfu-e2e-token-secret-of-at-least-32-bytes';

let standin;
let server;
let guarded;
before(async () => {
  standin = await startStandin();
  server = await startServer({ bindings: { ...standin.bindings, SFU_MODE: 'always' } });
  // Tokens for subscribers; publishers open.
  guarded = await startServer({
    bindings: { ...standin.bindings, SFU_MODE: 'always', TOKEN_SECRET, PUBLISH_AUTH: 'open', SUBSCRIBE_AUTH: 'token' },
  });
});
after(async () => {
  await server?.stop();
  await guarded?.stop();
  await standin?.stop();
});

const wsBase = (srv) => `ws://${srv.url.host}`;
let streams = 0;
const fresh = () => `/sfu/e2e/${process.pid}-${++streams}`;

/** Calls the proxy; resolves with the status and the parsed body. */
async function proxy(srv, stream, tail, { method = 'POST', ticket, body } = {}) {
  const res = await fetch(new URL(`/api/sfu${stream}/${tail}`, srv.url), {
    method,
    headers: {
      ...(ticket ? { authorization: `Bearer ${ticket}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

const peer = () => new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });

/** A werift offer that sends video (and audio): what a publisher or WHIP encoder offers. */
async function sendingOffer({ audio = false } = {}) {
  const pc = peer();
  pc.addTransceiver(new MediaStreamTrack({ kind: 'video' }), { direction: 'sendonly' });
  if (audio) pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendonly' });
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, sdp: pc.localDescription.sdp, mid: pc.getTransceivers()[0].mid };
}

/** A receive-only offer, as a WHEP player makes. */
async function receivingOffer() {
  const pc = peer();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  await pc.setLocalDescription(await pc.createOffer());
  return { pc, sdp: pc.localDescription.sdp };
}

/** A publisher on `stream` that pushed one video track through the proxy. */
async function publishThroughProxy(srv, stream) {
  const publisher = await join(wsBase(srv), stream, { mode: 'publish' });
  const { data } = await publisher.event('sfu');
  assert.match(data.ticket, /^[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
  assert.equal(data.session, undefined, 'the publisher gets a ticket only');
  const session = await proxy(srv, stream, 'sessions/new', { ticket: data.ticket });
  assert.equal(session.status, 201, JSON.stringify(session.body));
  const offer = await sendingOffer();
  const pushed = await proxy(srv, stream, `sessions/${session.body.sessionId}/tracks/new`, {
    ticket: data.ticket,
    body: { sessionDescription: { type: 'offer', sdp: offer.sdp }, tracks: [{ location: 'local', mid: offer.mid, trackName: 'camera' }] },
  });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  assert.equal(pushed.body.sessionDescription.type, 'answer');
  offer.pc.close();
  return { publisher, ticket: data.ticket, session: session.body.sessionId };
}

/** The stream's status. */
async function status(srv, stream) {
  return (await fetch(new URL(`/api/streams${stream}`, srv.url))).json();
}

test('always: the publisher gets a ticket, pushes through the proxy, and subscribers are told what to pull, before and after they join', async () => {
  const stream = fresh();
  const early = await join(wsBase(server), stream, { mode: 'subscribe' });
  const { publisher, session } = await publishThroughProxy(server, stream);
  await early.event('published');
  const told = (await early.event('sfu')).data;
  assert.equal(told.session, session);
  assert.deepEqual(told.tracks, ['camera']);
  assert.ok(told.ticket.startsWith(`${early.id}.`));
  const late = await join(wsBase(server), stream, { mode: 'subscribe' });
  await late.event('published');
  const lateTold = (await late.event('sfu')).data;
  assert.deepEqual([lateTold.session, lateTold.tracks], [session, ['camera']]);
  assert.notEqual(lateTold.ticket, told.ticket);

  // The late subscriber pulls, with the schema's simulcast preferences (which the stand-in
  // checks the forwarded body for): the SFU offers, it answers through renegotiate.
  const own = await proxy(server, stream, 'sessions/new', { ticket: lateTold.ticket });
  assert.equal(own.status, 201);
  const simulcast = { preferredRid: 'h', fallbackStrategy: 'leastBandwidth' };
  const pulled = await proxy(server, stream, `sessions/${own.body.sessionId}/tracks/new`, {
    ticket: lateTold.ticket,
    body: { tracks: [{ location: 'remote', sessionId: session, trackName: 'camera', simulcast }] },
  });
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  assert.equal(pulled.body.requiresImmediateRenegotiation, true);
  const viewer = peer();
  await viewer.setRemoteDescription(pulled.body.sessionDescription);
  await viewer.setLocalDescription(await viewer.createAnswer());
  const answered = await proxy(server, stream, `sessions/${own.body.sessionId}/renegotiate`, {
    method: 'PUT',
    ticket: lateTold.ticket,
    body: { sessionDescription: { type: 'answer', sdp: viewer.localDescription.sdp } },
  });
  assert.equal(answered.status, 200, JSON.stringify(answered.body));
  viewer.close();
  assert.deepEqual(await status(server, stream), { ...(await status(server, stream)), mode: 'sfu', live: true, subscribers: 2 });
  assert.deepEqual(await standin.violations(), []);
  for (const c of [publisher, early, late]) c.ws.close();
});

test('refusals: no ticket, a forged one, a subscriber pushing, using another member\'s session, pulling another stream\'s tracks, an undocumented field; each its code, and nothing changes', async () => {
  const stream = fresh();
  const other = fresh();
  const { publisher, ticket, session } = await publishThroughProxy(server, stream);
  const foreign = await publishThroughProxy(server, other);
  const sub = await join(wsBase(server), stream, { mode: 'subscribe' });
  await sub.event('published');
  await publisher.event('subscribed', sub.id);
  const subTicket = (await sub.event('sfu')).data.ticket;
  const own = (await proxy(server, stream, 'sessions/new', { ticket: subTicket })).body.sessionId;
  const before = { requests: (await standin.stats()).requests, status: await status(server, stream) };
  const offer = await sendingOffer();
  const push = { sessionDescription: { type: 'offer', sdp: offer.sdp }, tracks: [{ location: 'local', mid: offer.mid, trackName: 'fake' }] };
  const cases = [
    ['no ticket', 'sessions/new', {}, 401, 'sfu-ticket'],
    ['a forged ticket', 'sessions/new', { ticket: `${sub.id}.${'A'.repeat(43)}` }, 401, 'sfu-ticket'],
    ['another stream\'s ticket', 'sessions/new', { ticket: foreign.ticket }, 401, 'sfu-ticket'],
    ['a subscriber pushing tracks', `sessions/${own}/tracks/new`, { ticket: subTicket, body: push }, 403, 'sfu-not-publisher'],
    ['a subscriber using the publisher\'s session', `sessions/${session}/tracks/new`, { ticket: subTicket, body: push }, 403, 'sfu-not-owner'],
    [
      'pulling another stream\'s tracks',
      `sessions/${own}/tracks/new`,
      { ticket: subTicket, body: { tracks: [{ location: 'remote', sessionId: foreign.session, trackName: 'camera' }] } },
      403,
      'sfu-foreign-track',
    ],
    [
      'pulling a track the publisher never pushed',
      `sessions/${own}/tracks/new`,
      { ticket: subTicket, body: { tracks: [{ location: 'remote', sessionId: session, trackName: 'screen' }] } },
      403,
      'sfu-foreign-track',
    ],
    [
      'the publisher pulling',
      `sessions/${session}/tracks/new`,
      { ticket, body: { tracks: [{ location: 'remote', sessionId: session, trackName: 'camera' }] } },
      403,
      'sfu-foreign-track',
    ],
    ['an undocumented field', `sessions/${own}/tracks/new`, { ticket: subTicket, body: { ...push, secret: 1 } }, 400, 'sfu-bad-request'],
    ['a close without force', `sessions/${own}/tracks/close`, { method: 'PUT', ticket: subTicket, body: { tracks: [{ mid: '0' }] } }, 400, 'sfu-bad-request'],
    ['the wrong method', `sessions/${own}/renegotiate`, { method: 'POST', ticket: subTicket, body: {} }, 405, 'method-not-allowed'],
  ];
  for (const [what, tail, options, code, name] of cases) {
    const res = await proxy(server, stream, tail, options);
    assert.equal(res.status, code, what);
    assert.equal(res.body.error.code, name, what);
    assert.ok(res.body.error.message.length > 10, what);
  }
  offer.pc.close();
  assert.equal((await standin.stats()).requests, before.requests, 'no refused request reached the SFU');
  assert.deepEqual(await status(server, stream), before.status);
  assert.ok(await sub.quiet(200), 'the subscriber heard nothing');
  assert.ok(await publisher.quiet(0), 'the publisher heard nothing');
  for (const c of [publisher, foreign.publisher, sub]) c.ws.close();
});

test('SFU off: every SFU door answers sfu-unavailable', async () => {
  const plain = await startServer();
  try {
    const res = await proxy(plain, '/sfu/off', 'sessions/new', { ticket: 'x.y' });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, 'sfu-unavailable');
    const whip = await fetch(new URL('/api/whip/sfu/off', plain.url), { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'v=0' });
    assert.equal(whip.status, 503);
    assert.match(await whip.text(), /^sfu-unavailable: /);
  } finally {
    await plain.stop();
  }
});

/** POSTs an SDP offer to a WHIP or WHEP endpoint. */
async function offerTo(srv, door, stream, sdp, headers = {}) {
  const res = await fetch(new URL(`/api/${door}${stream}`, srv.url), {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...headers },
    body: sdp,
  });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

test('WHIP: the encoder is the stream\'s publisher (published, sfu, single publisher), 201 with an answer, Location and Link; DELETE ends it', async () => {
  const stream = fresh();
  const sub = await join(wsBase(server), stream, { mode: 'subscribe' });
  const offer = await sendingOffer({ audio: true });
  const res = await offerTo(server, 'whip', stream, offer.sdp);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  assert.match(res.text, /^v=0/);
  const location = res.headers.get('location');
  assert.match(location, new RegExp(`^/api/whip${stream}/sessions/[0-9a-f]{24}\\.[A-Za-z0-9_-]{43}$`));
  assert.match(res.headers.get('link'), /<stun:stun\.cloudflare\.com:3478>; rel="ice-server"/);
  const published = (await sub.event('published')).data.id;
  const told = (await sub.event('sfu')).data;
  assert.deepEqual(told.tracks.sort(), ['audio-1', 'video-0']);
  assert.deepEqual(await status(server, stream), { ...(await status(server, stream)), live: true, mode: 'sfu', subscribers: 1 });

  // A second publisher, by WebSocket or WHIP, is refused and changes nothing.
  const requests = (await standin.stats()).requests;
  assert.equal((await refusal(wsBase(server), stream, { mode: 'publish' })).code, 'publisher-exists');
  const second = await offerTo(server, 'whip', stream, offer.sdp);
  assert.equal(second.status, 409);
  assert.match(second.text, /^publisher-exists: /);
  assert.equal((await standin.stats()).requests, requests);
  assert.ok(await sub.quiet(200));

  // Trickle is answered as RFC 9725 allows; a stranger's DELETE names nothing.
  const patch = await fetch(new URL(location, server.url), { method: 'PATCH', headers: { 'content-type': 'application/trickle-ice-sdpfrag' }, body: 'a=end-of-candidates' });
  assert.equal(patch.status, 405);
  assert.equal(patch.headers.get('allow'), 'DELETE, OPTIONS');
  const guessed = location.replace(/\.[^.]+$/, `.${'A'.repeat(43)}`);
  assert.equal((await fetch(new URL(guessed, server.url), { method: 'DELETE' })).status, 404);
  assert.ok(await sub.quiet(200));

  const ended = await fetch(new URL(location, server.url), { method: 'DELETE' });
  assert.equal(ended.status, 200);
  assert.equal((await sub.event('unpublished')).data.id, published);
  assert.equal((await status(server, stream)).live, false);
  const publisher = await join(wsBase(server), stream, { mode: 'publish' });
  assert.ok(publisher.id, 'a WebSocket publisher may take the stream now');
  offer.pc.close();
  assert.deepEqual(await standin.violations(), []);
  for (const c of [sub, publisher]) c.ws.close();
});

test('WHIP refusals: not SDP, no usable offer, a hash path\'s hash', async () => {
  const stream = fresh();
  const notSdp = await fetch(new URL(`/api/whip${stream}`, server.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(notSdp.status, 415);
  assert.match(await notSdp.text(), /^unsupported-media-type: /);
  const garbage = await offerTo(server, 'whip', stream, 'hello');
  assert.equal(garbage.status, 400);
  assert.match(garbage.text, /^sfu-bad-request: /);
  // Its peer connection is closed after: an open one's UDP socket keeps the test process alive.
  const offer = await sendingOffer();
  const hashed = await offerTo(server, 'whip', `/sha1/${'0'.repeat(40)}`, offer.sdp);
  offer.pc.close();
  assert.equal(hashed.status, 403);
  assert.match(hashed.text, /^hash-path-publish: /);
  assert.equal((await status(server, stream)).live, false);
});

test('WHEP: a receive-only offer pulls the publisher\'s tracks (201, answer, Location); viewers count as subscribers; DELETE ends it', async () => {
  const stream = fresh();
  const whip = await sendingOffer({ audio: true });
  const published = await offerTo(server, 'whip', stream, whip.sdp);
  assert.equal(published.status, 201);
  const viewer = await receivingOffer();
  const res = await offerTo(server, 'whep', stream, viewer.sdp);
  assert.equal(res.status, 201, res.text);
  assert.match(res.text, /^v=0/);
  assert.match(res.text, /a=sendonly/);
  const location = res.headers.get('location');
  assert.match(location, new RegExp(`^/api/whep${stream}/sessions/`));
  assert.equal((await status(server, stream)).subscribers, 1);
  assert.equal((await fetch(new URL(location, server.url), { method: 'DELETE' })).status, 200);
  assert.equal((await status(server, stream)).subscribers, 0);
  // Not an offer that receives: refused.
  const sending = await offerTo(server, 'whep', stream, whip.sdp);
  assert.equal(sending.status, 400);
  await fetch(new URL(published.headers.get('location'), server.url), { method: 'DELETE' });
  // Nobody publishes: not ready, retry.
  const early = await offerTo(server, 'whep', stream, viewer.sdp);
  assert.equal(early.status, 503);
  assert.equal(early.headers.get('retry-after'), '2');
  assert.match(early.text, /^sfu-not-ready: /);
  whip.pc.close();
  viewer.pc.close();
  assert.deepEqual(await standin.violations(), []);
});

test('WHEP without the subscriber token it needs: 401 token-missing, and nothing reaches the SFU', async () => {
  const stream = fresh();
  const whip = await sendingOffer();
  assert.equal((await offerTo(guarded, 'whip', stream, whip.sdp)).status, 201);
  const requests = (await standin.stats()).requests;
  const viewer = await receivingOffer();
  const refused = await offerTo(guarded, 'whep', stream, viewer.sdp);
  assert.equal(refused.status, 401);
  assert.match(refused.text, /^token-missing: /);
  assert.equal((await standin.stats()).requests, requests);
  const token = mintToken({ secret: TOKEN_SECRET, path: stream, mode: 'subscribe', exp: Math.floor(Date.now() / 1000) + 60 });
  assert.equal((await status(guarded, `${stream}?token=${token}`)).subscribers, 0);
  const admitted = await offerTo(guarded, 'whep', stream, viewer.sdp, { authorization: `Bearer ${token}` });
  assert.equal(admitted.status, 201, admitted.text);
  whip.pc.close();
  viewer.pc.close();
});

test('the SFU record survives hibernation: a subscriber arriving after the object was evicted is told the tracks, and old tickets still work', async () => {
  const stream = fresh();
  const { publisher, session } = await publishThroughProxy(server, stream);
  const early = await join(wsBase(server), stream, { mode: 'subscribe' });
  await early.event('published');
  const ticket = (await early.event('sfu')).data.ticket;
  await publisher.event('subscribed', early.id);
  // Idleness is the point, so this wait is deliberate: past the runtime's ~10 s eviction.
  const WOKE = /"event":"woke".*"connections":(\d+)/;
  await new Promise((resolve) => setTimeout(resolve, 12_000));
  const woke = server.nextLog(WOKE, 10_000);
  const late = await join(wsBase(server), stream, { mode: 'subscribe' });
  await woke;
  await late.event('published');
  const told = (await late.event('sfu')).data;
  assert.deepEqual([told.session, told.tracks], [session, ['camera']]);
  const again = await proxy(server, stream, 'sessions/new', { ticket });
  assert.equal(again.status, 201);
  for (const c of [publisher, early, late]) c.ws.close();
});

test('the app secret appears in no log line and no answer', async () => {
  assert.ok(!server.logs.some((l) => l.includes(standin.appSecret)));
  assert.ok(!guarded.logs.some((l) => l.includes(standin.appSecret)));
});
