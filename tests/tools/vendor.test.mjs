// The page's vendored QR code module (public/js/vendor/) is exactly what scripts/vendor makes
// from the npm package package.json pins, and it draws a readable code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('public/js/vendor is what scripts/vendor makes from node_modules', async () => {
  const { stdout, stderr } = await promisify(execFile)(path.join(root, 'scripts/vendor'), ['--check']);
  assert.equal(stdout + stderr, '');
});

test('the vendored module is an ES module that makes QR codes', async () => {
  const { default: qrcode } = await import('../../public/js/vendor/qrcode.js');
  const qr = qrcode(0, 'M');
  qr.addData('http://127.0.0.1:8787/?subscribe=%2Fsha256%2F0123456789abcdef');
  qr.make();
  const n = qr.getModuleCount();
  assert.ok(n >= 21 && (n - 17) % 4 === 0, `a QR code is 17 + 4k modules wide, not ${n}`);
  // The three finder patterns: dark corners.
  assert.ok(qr.isDark(0, 0) && qr.isDark(0, n - 1) && qr.isDark(n - 1, 0));
});
