// GET /peerconnection hands out the deployment's ICE_SERVERS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { Client } from '../support/client.mjs';

const ICE = [{ urls: ['turn:127.0.0.1:3478'], username: 'u', credential: 'c' }, { urls: 'stun:127.0.0.1:3478' }];

let server;
before(async () => {
  server = await startServer({ bindings: { ICE_SERVERS: JSON.stringify(ICE) } });
});
after(() => server.stop());

test('the configured ICE servers are returned with the msg_id', async () => {
  const sub = await Client.join(server.wsBase, '/ice/1', 'subscribe');
  sub.send({ method: 'GET', resource: '/peerconnection', msg_id: 'a1' });
  const answer = await sub.next();
  assert.equal(answer.msg_id, 'a1');
  assert.equal(answer.code, 'success');
  assert.deepEqual(answer.result.configuration.iceServers, ICE);
  await sub.close();
});
