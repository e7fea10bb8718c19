// The benchmark measures the relay, not the abuse limits: our Worker gets limits far above the
// load (the reference has none).
export const LIMITS_OFF = {
  FRAME_RATE: '1000000',
  FRAME_BURST: '1000000',
  FLOOD_CLOSE_AFTER: '0',
  // The relay budgets (per pair and per stream) would cap the throughput scenario at their rate.
  RELAY_BYTES_PER_SECOND: '0',
  RELAY_STREAM_BYTES_PER_SECOND: '0',
  // The scale mode goes to 10,000 subscribers (an object holds at most 32,768 sockets).
  MAX_SUBSCRIBERS: '20000',
};
