// The Realtime SFU stand-in (test support) itself: two werift peers push and pull through it
// and the pushed RTP arrives at the puller; bodies that break the documented API are refused
// and recorded; so are a wrong secret and an unknown route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RTCPeerConnection, MediaStreamTrack, RtpPacket, RtpHeader } from 'werift';
import { startStandin } from '../support/realtime.mjs';
import { checkRequest } from '../support/realtime-schema.mjs';

let standin;
before(async () => {
  standin = await startStandin();
});
after(() => standin?.stop());

/** Calls the stand-in's Connection API as the Worker would. */
async function api(method, route, body, secret = standin.appSecret) {
  const res = await fetch(`${standin.base}/apps/${standin.appId}${route}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const peer = () => new RTCPeerConnection({ iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'], bundlePolicy: 'max-bundle' });

/** Resolves once `pc` reports `connected`. */
const connected = (pc) =>
  new Promise((resolve) => {
    if (pc.connectionState === 'connected') return resolve(undefined);
    pc.connectionStateChange.subscribe((s) => s === 'connected' && resolve(undefined));
  });

test('a pushed track reaches a puller: RTP payloads arrive intact, SSRC and payload type rewritten', async () => {
  const violationsBefore = (await standin.violations()).length;
  // The publisher: one video track, pushed with its offer.
  const pub = peer();
  const source = new MediaStreamTrack({ kind: 'video' });
  pub.addTransceiver(source, { direction: 'sendonly' });
  await pub.setLocalDescription(await pub.createOffer());
  const created = await api('POST', '/sessions/new');
  assert.equal(created.status, 201);
  const pubSession = created.body.sessionId;
  const mid = pub.getTransceivers()[0].mid;
  const pushed = await api('POST', `/sessions/${pubSession}/tracks/new`, {
    sessionDescription: { type: 'offer', sdp: pub.localDescription.sdp },
    tracks: [{ location: 'local', mid, trackName: 'camera' }],
  });
  assert.equal(pushed.status, 200, JSON.stringify(pushed.body));
  assert.equal(pushed.body.requiresImmediateRenegotiation, false);
  assert.deepEqual(pushed.body.tracks, [{ mid, trackName: 'camera' }]);
  assert.equal(pushed.body.sessionDescription.type, 'answer');
  await pub.setRemoteDescription(pushed.body.sessionDescription);

  // The viewer: pulls the track; the stand-in offers, the viewer answers through renegotiate.
  const sub = peer();
  const received = [];
  const firstPacket = new Promise((resolve) => {
    sub.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        received.push(rtp);
        if (received.length === 20) resolve(undefined);
      });
    });
  });
  const subSession = (await api('POST', '/sessions/new')).body.sessionId;
  const pulled = await api('POST', `/sessions/${subSession}/tracks/new`, {
    tracks: [{ location: 'remote', sessionId: pubSession, trackName: 'camera' }],
  });
  assert.equal(pulled.status, 200, JSON.stringify(pulled.body));
  assert.equal(pulled.body.requiresImmediateRenegotiation, true);
  assert.equal(pulled.body.sessionDescription.type, 'offer');
  const [pulledTrack] = pulled.body.tracks;
  assert.equal(pulledTrack.sessionId, pubSession);
  assert.equal(pulledTrack.trackName, 'camera');
  assert.equal(typeof pulledTrack.mid, 'string');
  await sub.setRemoteDescription(pulled.body.sessionDescription);
  await sub.setLocalDescription(await sub.createAnswer());
  const renegotiated = await api('PUT', `/sessions/${subSession}/renegotiate`, { sessionDescription: { type: 'answer', sdp: sub.localDescription.sdp } });
  assert.equal(renegotiated.status, 200, JSON.stringify(renegotiated.body));

  await Promise.all([connected(pub), connected(sub)]);
  // Media: numbered packets with a recognizable payload until the viewer has 20 of them.
  let seq = 0;
  const timer = setInterval(() => {
    seq += 1;
    const payload = Buffer.alloc(200, seq % 256);
    payload.write(`standin-${seq}`);
    source.writeRtp(new RtpPacket(new RtpHeader({ payloadType: 96, sequenceNumber: seq, timestamp: seq * 3000, ssrc: 0x1234, marker: true }), payload));
  }, 10);
  try {
    await firstPacket;
  } finally {
    clearInterval(timer);
  }
  const rtp = received[0];
  assert.match(rtp.payload.toString('latin1'), /^standin-\d+/);
  assert.notEqual(rtp.header.ssrc, 0x1234, 'the stand-in sends with its own SSRC');
  const viewerPt = sub.getTransceivers()[0].receiver.codecs?.[0]?.payloadType;
  if (viewerPt !== undefined) assert.equal(rtp.header.payloadType, viewerPt);

  const stats = await standin.stats();
  const pubStats = stats.sessions.find((s) => s.sessionId === pubSession);
  const subStats = stats.sessions.find((s) => s.sessionId === subSession);
  assert.ok(pubStats.tracks[0].bytes > 0 && pubStats.tracks[0].pullers === 1);
  assert.ok(subStats.tracks[0].bytes > 0);

  const state = await api('GET', `/sessions/${subSession}`);
  assert.deepEqual(
    state.body.tracks.map(({ location, sessionId, trackName }) => ({ location, sessionId, trackName })),
    [{ location: 'remote', sessionId: pubSession, trackName: 'camera' }],
  );
  const closed = await api('PUT', `/sessions/${subSession}/tracks/close`, { tracks: [{ mid: pulledTrack.mid }], force: true });
  assert.equal(closed.status, 200);
  assert.deepEqual(closed.body.tracks, [{ mid: pulledTrack.mid }]);

  assert.equal((await standin.violations()).length, violationsBefore, 'a well-formed exchange records no violation');
  await Promise.all([pub.close(), sub.close()]);
});

test('a pull of a track nobody publishes answers a per-track error, as the API does', async () => {
  const session = (await api('POST', '/sessions/new')).body.sessionId;
  const pulled = await api('POST', `/sessions/${session}/tracks/new`, { tracks: [{ location: 'remote', sessionId: 'f'.repeat(32), trackName: 'nope' }] });
  assert.equal(pulled.status, 200);
  assert.equal(pulled.body.requiresImmediateRenegotiation, false);
  assert.equal(pulled.body.tracks[0].errorCode, 'track_not_found');
});

test('malformed bodies, a wrong secret and unknown routes are refused and recorded', async () => {
  const session = (await api('POST', '/sessions/new')).body.sessionId;
  const cases = [
    ['POST', `/sessions/${session}/tracks/new`, { tracks: [{ location: 'remote', trackName: 'x' }] }, /sessionId .*missing/],
    ['POST', `/sessions/${session}/tracks/new`, { tracks: [{ location: 'remote', sessionId: 'a', trackName: 'x', colour: 'red' }] }, /unknown field "colour"/],
    ['POST', `/sessions/${session}/tracks/new`, { track: [] }, /unknown field "track"/],
    ['PUT', `/sessions/${session}/renegotiate`, { sessionDescription: { type: 'offer', sdp: 'v=0' } }, /must be "answer"/],
    ['PUT', `/sessions/${session}/renegotiate`, {}, /answer\) is missing/],
    ['PUT', `/sessions/${session}/tracks/close`, { tracks: [{}] }, /mid .*missing/],
    ['POST', '/sessions/new', { sessionDescription: { type: 'offer' } }, /sdp is missing/],
  ];
  for (const [method, route, body, problem] of cases) {
    const before = (await standin.violations()).length;
    const answer = await api(method, route, body);
    assert.equal(answer.status, 400, `${method} ${route} ${JSON.stringify(body)}`);
    assert.equal(answer.body.errorCode, 'invalid_request');
    const recorded = (await standin.violations()).slice(before);
    assert.equal(recorded.length, 1);
    assert.match(recorded[0].problems.join('; '), problem);
  }

  const before = (await standin.violations()).length;
  assert.equal((await api('POST', '/sessions/new', undefined, 'not-the-secret')).status, 401);
  assert.equal((await api('POST', `/sessions/${session}/tracks/open`, {})).status, 404);
  const recorded = (await standin.violations()).slice(before);
  assert.equal(recorded.length, 2);
  assert.match(recorded[0].problems[0], /Authorization/);
  assert.doesNotMatch(JSON.stringify(recorded), /not-the-secret/, 'what was presented as a secret is not recorded');
});

test('the schema accepts the documented examples', () => {
  assert.deepEqual(checkRequest('sessions/new', undefined), []);
  assert.deepEqual(checkRequest('tracks/new', { sessionDescription: { sdp: 'v=0', type: 'offer' }, tracks: [{ location: 'local', mid: '4', trackName: 'a' }] }), []);
  assert.deepEqual(checkRequest('tracks/new', { tracks: [{ location: 'remote', sessionId: 's', trackName: 'a' }] }), []);
  assert.deepEqual(checkRequest('tracks/new', { tracks: [{ location: 'local', trackName: 'mic-1', kind: 'audio' }] }), []);
  assert.deepEqual(checkRequest('tracks/new', { autoDiscover: true, sessionDescription: { sdp: 'v=0', type: 'offer' } }), []);
  assert.deepEqual(checkRequest('tracks/close', { tracks: [{ mid: '7' }], sessionDescription: { sdp: 'v=0', type: 'offer' }, force: false }), []);
  assert.deepEqual(checkRequest('renegotiate', { sessionDescription: { sdp: 'v=0', type: 'answer' } }), []);
});
