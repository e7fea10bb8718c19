// Debian's simple-whip-client (`whip-client`, GStreamer) publishing headless test sources (a
// moving ball, red noise) to a WHIP endpoint: an encoder that is not our code, as OBS would be.
// It runs with tests/support/whip-shim/shim.c preloaded (compiled with `cc` on first use, into
// the system's temporary folder): see that file for the two things it works around.
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';

const SOURCE = path.resolve(import.meta.dirname, 'whip-shim/shim.c');
const VIDEO =
  'videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 ! videoconvert ! queue ! vp8enc deadline=1 ! rtpvp8pay pt=96 ssrc=2 ! queue ! application/x-rtp,media=video,encoding-name=VP8,payload=96';
const AUDIO =
  'audiotestsrc is-live=true wave=red-noise ! audioconvert ! audioresample ! queue ! opusenc ! rtpopuspay pt=100 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=100';

/** The shim's shared library, built once per version of its source. */
function shim() {
  const text = fs.readFileSync(SOURCE);
  const hash = crypto.createHash('sha256').update(text).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `named-streams-whip-shim-${hash}`);
  const lib = path.join(dir, 'libgupnp-igd-1.0.so.4');
  if (!fs.existsSync(lib)) {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${lib}.${process.pid}`;
    execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', tmp, SOURCE, '-Wl,-soname,libgupnp-igd-1.0.so.4']);
    fs.renameSync(tmp, lib);
  }
  return { dir, lib };
}

/**
 * Starts whip-client on `url`. Resolves once it has started; `connected` resolves when its
 * PeerConnection to the SFU is connected and rejects if it fails or exits first.
 * @param {string} url
 * @param {{ token?: string, audio?: boolean }} [options]
 */
export function startWhipClient(url, { token, audio = true } = {}) {
  const { dir, lib } = shim();
  const args = ['-u', url, '-n', '-o', '-l', '4', '-V', VIDEO];
  if (audio) args.push('-A', AUDIO);
  if (token) args.push('-t', token);
  const child = spawn('whip-client', args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LD_LIBRARY_PATH: dir, LD_PRELOAD: lib },
  });
  const logs = [];
  let resource;
  const connected = new Promise((resolve, reject) => {
    const read = (line) => {
      logs.push(line);
      if (process.env.WHIP_DEBUG) console.error(`[whip-client] ${line}`);
      const found = /Resource URL: (\S+)/.exec(line);
      if (found) resource = found[1];
      if (/PeerConnection connected/.test(line)) resolve(undefined);
      if (/\[ERR\]|failed/i.test(line)) reject(new Error(`whip-client: ${line}\n${logs.join('\n')}`));
    };
    readline.createInterface({ input: child.stdout }).on('line', read);
    readline.createInterface({ input: child.stderr }).on('line', read);
    child.once('exit', (code) => reject(new Error(`whip-client exited (${code}):\n${logs.join('\n')}`)));
  });
  connected.catch(() => {});
  return {
    child,
    logs,
    connected,
    /** The WHIP session URL the server gave. */
    resource: () => resource,
    /** Stops it as Ctrl-C would: it DELETEs its session, then exits. */
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
        child.kill('SIGINT');
      }),
  };
}
