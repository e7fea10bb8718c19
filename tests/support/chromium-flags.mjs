// Chromium's flags for real WebRTC over loopback on a headless machine (see shared/TOOLCHAIN.md).
export const BROWSER_FLAGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  // Required where the host has only `lo`: otherwise no candidates are gathered.
  '--allow-loopback-in-peer-connection',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  // Pages here are never clicked; the play button for blocked autoplay has its own test.
  '--autoplay-policy=no-user-gesture-required',
];
