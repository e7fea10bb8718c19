// The page's entry point: picks the view its link asks for. UI only: the protocol lives in
// streams-client.js, WebRTC in peer.js, each view in page/.
import { params, report, streamPathParam } from './page/common.js';
import { landing } from './page/landing.js';
import { publish } from './page/publisher.js';
import { subscribe } from './page/viewer.js';

// rtclite's URL convention: ?publish=<path> and ?subscribe=<path>.
if (params.has('publish')) {
  const path = streamPathParam('publish');
  if (path) publish(path).catch(report);
} else if (params.has('subscribe')) {
  const path = streamPathParam('subscribe');
  if (path) subscribe(path);
} else {
  landing();
}
