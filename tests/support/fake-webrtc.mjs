// A stand-in for RTCPeerConnection and for the signaling client, so peer.js's negotiation runs in
// Node. The fake keeps the parts of the real object that perfect negotiation depends on: one
// operations chain (each call starts after the previous one settled), the signaling states, an
// implicit rollback when an offer arrives in have-local-offer, and addIceCandidate refusing
// before a remote description. Tests can hold any operation at a gate to interleave messages.

/** A promise with its resolve function outside. */
export function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class FakePeerConnection {
  /** @type {FakePeerConnection[]} */
  static instances = [];

  constructor(configuration) {
    this.configuration = configuration;
    this.signalingState = 'stable';
    this.connectionState = 'new';
    this.iceConnectionState = 'new';
    this.localDescription = null;
    this.remoteDescription = null;
    /** Every operation started, in order: `setLocal`, `setRemote:offer`, `addIce`... */
    this.calls = [];
    /** Operations to hold until a test releases them: name → promise. */
    this.gates = new Map();
    /** Operations that fail: name → error. */
    this.failures = new Map();
    this.chain = Promise.resolve();
    this.offers = 0;
    this.restarts = 0;
    FakePeerConnection.instances.push(this);
  }

  op(name, body) {
    this.calls.push(name);
    const run = this.chain.then(async () => {
      await this.gates.get(name);
      if (this.signalingState === 'closed') throw new DOMException('closed', 'InvalidStateError');
      const failure = this.failures.get(name);
      if (failure) throw failure;
      return body();
    });
    this.chain = run.catch(() => {});
    return run;
  }

  addTrack() {}
  getTransceivers() {
    return [];
  }
  getConfiguration() {
    return this.configuration;
  }
  setConfiguration(configuration) {
    this.configuration = configuration;
  }
  restartIce() {
    this.restarts += 1;
  }
  close() {
    this.signalingState = 'closed';
  }

  setLocalDescription() {
    return this.op('setLocal', () => {
      if (this.signalingState === 'stable') {
        this.offers += 1;
        this.localDescription = { type: 'offer', sdp: `offer ${this.offers}` };
        this.signalingState = 'have-local-offer';
      } else if (this.signalingState === 'have-remote-offer') {
        this.localDescription = { type: 'answer', sdp: 'answer' };
        this.signalingState = 'stable';
      } else {
        throw new DOMException(`setLocalDescription in ${this.signalingState}`, 'InvalidStateError');
      }
    });
  }

  setRemoteDescription(description) {
    return this.op(`setRemote:${description.type}`, () => {
      if (description.type === 'offer') {
        // An offer in have-local-offer rolls the local one back first (implicit rollback).
        if (this.signalingState === 'have-local-offer') this.localDescription = null;
        this.signalingState = 'have-remote-offer';
      } else if (description.type === 'answer') {
        if (this.signalingState !== 'have-local-offer') {
          throw new DOMException(`answer in ${this.signalingState}`, 'InvalidStateError');
        }
        this.signalingState = 'stable';
      }
      this.remoteDescription = description;
    });
  }

  addIceCandidate(candidate) {
    return this.op('addIce', () => {
      if (!this.remoteDescription) throw new DOMException('no remote description', 'InvalidStateError');
      return candidate;
    });
  }
}

/** The signaling client as peer.js uses it: `id`, `mode`, `on`, `notify`, `getConfiguration`. */
export class FakeSignaling {
  constructor({ id, mode, configuration = () => Promise.resolve({ iceServers: [] }) }) {
    this.id = id;
    this.mode = mode;
    this.configuration = configuration;
    this.listeners = new Map();
    /** Every NOTIFY sent: `{ to, data }`. */
    this.sent = [];
    this.configurationRequests = 0;
  }
  on(type, listener) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
    return this;
  }
  emit(type, detail) {
    for (const listener of this.listeners.get(type) ?? []) listener(detail);
  }
  notify(to, data) {
    this.sent.push({ to, data });
    return true;
  }
  getConfiguration() {
    this.configurationRequests += 1;
    return this.configuration();
  }
}

/** A logger that keeps what it is told. */
export function recordingLogger() {
  const lines = [];
  return { lines, warn: (...args) => lines.push(args.map(String).join(' ')) };
}
