// TEST SUPPORT ONLY: runs the Realtime SFU stand-in (standin.mjs) as its own process, on
// 127.0.0.1. The app id and secret come from STANDIN_APP_ID and STANDIN_APP_SECRET, the port
// from STANDIN_PORT (0, the default, picks a free one). Prints `{"port":N}` on stdout once it
// listens; logs go to stderr. Stops on SIGTERM or when stdin closes (its parent went away).
import { createStandin } from './standin.mjs';

const appId = process.env.STANDIN_APP_ID;
const appSecret = process.env.STANDIN_APP_SECRET;
if (!appId || !appSecret) {
  console.error('realtime stand-in: set STANDIN_APP_ID and STANDIN_APP_SECRET');
  process.exit(2);
}
const standin = createStandin({ appId, appSecret, log: (line) => console.error(`realtime stand-in: ${line}`) });
const port = await standin.listen(Number(process.env.STANDIN_PORT ?? 0));
process.stdout.write(`${JSON.stringify({ port })}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await standin.close();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
