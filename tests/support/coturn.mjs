// Starts Debian's coturn on loopback with the TURN REST API convention (use-auth-secret), so
// the Worker's minted credentials are checked by a real TURN server.
import { spawn } from 'node:child_process';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (coturn listens on the same number for UDP and TCP). */
async function freePort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * @param {{ secret: string }} options
 * @returns {Promise<{ url: string, port: number, log: string[], stop: () => Promise<void> }>}
 */
export async function startCoturn({ secret }) {
  const port = await freePort();
  const minPort = 40000 + Math.floor(Math.random() * 20000);
  const args = [
    '-n', // no config file: everything is on this command line
    `--listening-ip=127.0.0.1`,
    `--relay-ip=127.0.0.1`,
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${minPort + 200}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    '--realm=named-streams.test',
    // Both browsers are on this machine, so the peers TURN relays to are loopback addresses.
    '--allow-loopback-peers',
    '--no-tls',
    '--no-dtls',
    '--no-cli',
    '--no-software-attribute',
    '--fingerprint',
    '--log-file=stdout',
    '--simple-log',
    // Logs each allocation and refusal, which the tests read.
    '--verbose',
  ];
  const child = spawn('turnserver', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coturn did not start:\n${log.join('')}`)), 10_000);
    const onData = (chunk) => {
      log.push(chunk.toString());
      // coturn logs its listeners once the relay is up.
      if (/listener opened on|Total General servers/i.test(log.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`coturn exited with ${code}:\n${log.join('')}`)));
  });
  await ready;
  return {
    port,
    url: `turn:127.0.0.1:${port}?transport=udp`,
    log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
