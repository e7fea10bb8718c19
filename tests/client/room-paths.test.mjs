// The paths of calls and conferences (public/js/page/room-paths.js): a call or room link is checked by
// the same rules as a stream link, the streams derived from it stay under it, and a path from a
// room's events is joined only if it is a participant directly under the room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { basePath, callSlots, otherSlot, participantPath, isParticipant } from '../../public/js/page/room-paths.js';
import { StreamPathError } from '../../public/js/streams-client.js';

const refused = (input, code = 'invalid-path') =>
  assert.throws(
    () => basePath(input),
    (err) => err instanceof StreamPathError && err.code === code && err.sentence.length > 10,
    `refuses ${JSON.stringify(input)}`,
  );

test('a call or room link is a plain stream path; a trailing / is dropped', () => {
  assert.equal(basePath('/calls/team'), '/calls/team');
  assert.equal(basePath(' rooms/team-42/ '), '/rooms/team-42');
  assert.equal(basePath('/rooms/café'), '/rooms/caf%C3%A9');
  assert.equal(basePath(basePath('/rooms/café')), '/rooms/caf%C3%A9');
});

test('links to other hosts, odd paths and hash paths are refused', () => {
  for (const input of [
    '//attacker.example/x',
    '%2F%2Fattacker.example',
    '/\\attacker.example/x',
    'https://attacker.example/rooms/x',
    'javascript:alert(1)',
    '/rooms/../x',
    '/rooms/x%2F',
    '/rooms//x',
    '',
    '/',
    null,
  ]) {
    refused(input);
  }
  refused('/api/rooms', 'not-found');
  refused('/js/rooms', 'not-found');
  refused('/sha256/rooms/team');
  refused('/sha1/calls/x');
  refused('/SHA256/rooms/team', 'hash-prefix-variant');
});

test('a link whose participants\' paths would be too long is refused before the camera starts', () => {
  const base = `/${'r'.repeat(2030)}`;
  assert.equal(basePath(base), base);
  refused(`/${'r'.repeat(2040)}`, 'path-too-long');
});

test('a call has two places, and each side listens to the other', () => {
  assert.deepEqual(callSlots('/calls/x'), ['/calls/x/1', '/calls/x/2']);
  assert.equal(otherSlot('/calls/x', '/calls/x/1'), '/calls/x/2');
  assert.equal(otherSlot('/calls/x', '/calls/x/2'), '/calls/x/1');
});

test('a participant publishes one segment under the room, with a random name', () => {
  assert.equal(participantPath('/rooms/a', () => new Uint8Array([0, 1, 0xab, 0xff])), '/rooms/a/0001abff');
  const made = new Set(Array.from({ length: 50 }, () => participantPath('/rooms/a')));
  assert.equal(made.size, 50);
  for (const path of made) assert.match(path, /^\/rooms\/a\/[0-9a-f]{8}$/);
});

test('only streams directly under the room, valid by the page\'s rules, are joined', () => {
  const room = '/rooms/a';
  assert.ok(isParticipant(room, '/rooms/a/bob'));
  assert.ok(isParticipant('/rooms/caf%C3%A9', '/rooms/caf%C3%A9/x'));
  for (const path of [
    '/rooms/a',
    '/rooms/a/',
    '/rooms/ab/x',
    '/rooms/a/b/c',
    '/rooms/other/bob',
    '/rooms/a/..',
    '/rooms/a/%2e%2e',
    '/rooms/a/%5Cx',
    '/rooms/a/x y',
    '//attacker.example/rooms/a/x',
    'https://attacker.example/rooms/a/x',
    42,
    null,
    undefined,
  ]) {
    assert.equal(isParticipant(room, path), false, JSON.stringify(path));
  }
});
