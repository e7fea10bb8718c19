// With TOKEN_SECRET on, a fresh join needs a token but a valid resume value does not (it proves
// membership of its stream by itself, and a token may have expired during a long session). A
// resume value is no way around the token: a bad one admits nothing, and allowlists still apply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../support/server.mjs';
import { startProxy } from '../support/tcp-proxy.mjs';
import { join, joinThrough, resume, resumePath, refused, assertSilent } from '../support/resume.mjs';
import { mintToken } from '../../scripts/token.mjs';

const SECRET = 'e2e-resume-token-secret-0123456789abcdef';
const PREFIX = '/tokened/';
const now = () => Math.floor(Date.now() / 1000);
const mint = (path, mode, exp = now() + 300) => mintToken({ secret: SECRET, path, mode, exp });
const withToken = (path, token) => `${path}?token=${encodeURIComponent(token)}`;

let server;
let proxy;
before(async () => {
  server = await startServer({
    bindings: { TOKEN_SECRET: SECRET, ALLOWED_PATHS: PREFIX, RESUME_GRACE_SECONDS: '10' },
  });
  proxy = await startProxy(Number(server.url.port));
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

test('a valid resume needs no token, and a stale token beside it does not matter; a fresh join needs one', async () => {
  const p = `${PREFIX}resume`;
  const pub = await join(server.wsBase, p, 'publish', mint(p, 'publish'));
  const { client: sub, link } = await joinThrough(proxy, p, 'subscribe', mint(p, 'subscribe'));
  await pub.event('subscribed', sub.id);
  await sub.event('published', pub.id);

  assert.deepEqual(await refused(server.wsBase, p, 'subscribe'), { code: 'token-missing', close: 4010 });
  const expired = mint(p, 'subscribe', now() - 60);
  assert.deepEqual(await refused(server.wsBase, withToken(p, expired), 'subscribe'), {
    code: 'token-expired',
    close: 4013,
  });

  link.sever();
  await sub.closed;
  pub.send({ method: 'NOTIFY', to: sub.id, data: 'queued' });
  const back = await resume(server.wsBase, p, 'subscribe', sub.resume, sub.id);
  assert.deepEqual(await back.next(), { method: 'NOTIFY', from: pub.id, data: 'queued' });
  // The client's URL may still carry the token it joined with, long expired.
  const again = await resume(server.wsBase, p, 'subscribe', back.resume, sub.id, expired);
  assert.match((await back.next()).reason, /^replaced: /);
  await assertSilent([pub, again], 300, 'nobody heard of the resumes');
  await Promise.all([pub, again].map((c) => c.close()));
});

test('a bad resume value without a token admits nothing, and allowlists still apply', async () => {
  const p = `${PREFIX}bad`;
  const pub = await join(server.wsBase, p, 'publish', mint(p, 'publish'));
  const leaver = await join(server.wsBase, p, 'subscribe', mint(p, 'subscribe'));
  await pub.event('subscribed', leaver.id);
  await leaver.close();
  await pub.event('unsubscribed', leaver.id);

  const invalid = { code: 'resume-invalid', close: 4030 };
  for (const value of ['', 'forged', `${leaver.resume.slice(0, -2)}AA`]) {
    assert.deepEqual(await refused(server.wsBase, resumePath(p, value), 'subscribe'), invalid, `value ${value}`);
    assert.deepEqual(await refused(server.wsBase, resumePath(p, value), 'publish'), invalid, `value ${value}`);
  }
  assert.deepEqual(await refused(server.wsBase, resumePath(p, leaver.resume), 'subscribe'), {
    code: 'resume-expired',
    close: 4031,
  });
  // Another stream on the allowed prefix: refused by its own key, not let in for want of a token.
  assert.deepEqual(await refused(server.wsBase, resumePath(`${PREFIX}other`, pub.resume), 'publish'), invalid);
  // Outside ALLOWED_PATHS, a resume value changes nothing about the refusal.
  assert.deepEqual(await refused(server.wsBase, resumePath('/elsewhere', pub.resume), 'publish'), {
    code: 'path-not-allowed',
    close: 4006,
  });
  await assertSilent([pub], 300, 'nothing was admitted');
  await pub.close();
});
