// Connection attempts limited by the platform's Rate Limiting binding (issue 11, item 4), keyed
// by IPv4 address or IPv6 /64 however the address is written, with the per-isolate fallback
// (IP_CONNECT_RATE, tested in limits.test.mjs) used only where the binding is absent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { join, refusal } from '../support/access.mjs';

let server;
before(async () => {
  server = await startServer({
    // The fallback would allow 1000: every refusal below is the binding's.
    bindings: { IP_CONNECT_RATE: '1000' },
    ratelimits: { CONNECT_LIMITER: { simple: { limit: 3, period: 60 } } },
  });
});
after(() => server?.stop());

const from = (ip, mode = 'subscribe') => ({ mode, headers: { 'CF-Connecting-IP': ip } });

test('addresses in one IPv6 /64 share one budget, however they are written', async () => {
  const open = [];
  open.push(await join(server.wsBase, '/rl/v6', from('2001:db8:aa:bb::1', 'publish')));
  open.push(await join(server.wsBase, '/rl/v6', from('2001:0db8:00aa:00bb:0000:0000:0000:0002')));
  open.push(await join(server.wsBase, '/rl/v6', from('2001:DB8:AA:BB:ffff:ffff:ffff:ffff')));
  const got = await refusal(server.wsBase, '/rl/v6', from('2001:db8:aa:bb::99'));
  assert.equal(got.code, 'connect-rate');
  assert.equal(got.close, 4021);
  // Another /64 is another client, and the connections already open carry on.
  const other = await join(server.wsBase, '/rl/v6', from('2001:db8:aa:bc::1'));
  await open[0].event('subscribed', other.id);
  for (const c of [...open, other]) c.close();
});

test('an IPv4 address and its IPv4-mapped IPv6 form are one client', async () => {
  const a = await join(server.wsBase, '/rl/v4', from('203.0.113.50'));
  const b = await join(server.wsBase, '/rl/v4', from('::ffff:203.0.113.50'));
  const c = await join(server.wsBase, '/rl/v4', from('::FFFF:cb00:7132'));
  assert.equal((await refusal(server.wsBase, '/rl/v4', from('203.0.113.50'))).code, 'connect-rate');
  const d = await join(server.wsBase, '/rl/v4', from('203.0.113.51'));
  for (const client of [a, b, c, d]) client.close();
});

test('refused attempts count too, so guessing is throttled', async () => {
  for (let i = 0; i < 3; i++) {
    const got = await refusal(server.wsBase, '/sha1/0123456789012345678901234567890123456789', from('198.51.100.77', 'publish'));
    assert.equal(got.code, 'hash-path-publish');
  }
  assert.equal((await refusal(server.wsBase, '/rl/guess', from('198.51.100.77'))).code, 'connect-rate');
});
