// A failing browser test leaves each page's screenshot and console in test-results/ (see
// tests/support/browser.mjs); a passing one leaves nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('a failed test leaves a screenshot, the console and the error; a passed one nothing', async () => {
  const results = fs.mkdtempSync(path.join(os.tmpdir(), 'test-results-'));
  const fixture = path.join(import.meta.dirname, 'fixtures/failing.mjs');
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead.
  const { NODE_TEST_CONTEXT, ...env } = process.env;
  const child = spawn(process.execPath, ['--test', fixture], {
    env: { ...env, TEST_RESULTS_DIR: results },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  assert.equal(code, 1, output);

  const failed = path.join(results, 'failing', 'fails-on-purpose');
  assert.deepEqual(fs.readdirSync(path.join(results, 'failing')), ['fails-on-purpose'], 'only the failed test left a folder');
  const png = fs.readFileSync(path.join(failed, 'page-1.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  const consoleText = fs.readFileSync(path.join(failed, 'page-1.console.txt'), 'utf8');
  assert.match(consoleText, /^url: http:\/\/127\.0\.0\.1:\d+\/\?x=1$/m);
  assert.match(consoleText, /log: hello from the page/);
  assert.match(fs.readFileSync(path.join(failed, 'error.txt'), 'utf8'), /the deliberate failure/);
  assert.match(output, /page\(s\) saved in/);
  fs.rmSync(results, { recursive: true, force: true });
});
