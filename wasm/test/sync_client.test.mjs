// SyncClient against a fake relay (sync_client_relay.mjs) and, when it has
// been built, the real quire-relay binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, SyncClient, fast, scope as baseScope, sleep, waitFor } from './sync_client_support.mjs';
import { relayBin, relayReady, startRelay } from './real_relay.mjs';

// The shared scope, plus a pair of live clients.
function scope(t) {
  const s = baseScope(t);
  let relay;
  return {
    ...s,
    async relay() {
      relay = await s.relay();
      return relay;
    },
    // Two docs with live clients on one document; `before(ca, cb)` runs
    // before they connect.
    async pair(docId, before = () => {}) {
      const a = new Doc();
      const b = new Doc();
      const ca = this.client(relay.url, docId, a);
      const cb = this.client(relay.url, docId, b);
      before(ca, cb, b);
      ca.connect();
      cb.connect();
      await waitFor('both live', () => ca.status === 'live' && cb.status === 'live');
      return { a, b, ca, cb };
    },
  };
}

test('two docs converge through the relay and remote edits reach onChange', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const remote = [];
  const { a, b, ca, cb } = await s.pair('notes', (_ca, _cb, b) => b.onChange((e) => remote.push(e)));
  a.insert(0, 'hello');
  await waitFor('b has hello', () => b.text() === 'hello');
  assert.deepEqual(remote.at(-1), { origin: 'remote', changes: [{ type: 'insert', index: 0, length: 5 }] });
  b.insert(5, ' world');
  b.setTitle('greeting');
  b.increment('likes', 3);
  await waitFor('a has everything', () => a.text() === 'hello world' && a.counter('likes') === 3);
  assert.equal(a.title, 'greeting');
  await waitFor('all acked', () => ca.pending === 0 && cb.pending === 0);
  assert.equal(ca.serverSeq, cb.serverSeq);
  assert.equal(ca.serverSeq, relay.room('notes').log.length);
  assert.deepEqual(a.encode(), b.encode());
});

test('status transitions are reported through onStatus and the getters', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const doc = new Doc();
  doc.insert(0, 'x');
  const c = s.client(relay.url, 'status', doc);
  assert.equal(c.status, 'offline');
  assert.equal(c.pending, 1, 'unsent own operations count as pending');
  assert.equal(c.serverSeq, null);
  assert.equal(c.docId, 'status');
  assert.equal(c.restored, true, 'nothing to restore without a storage');
  const events = [];
  const off = c.onStatus((e) => events.push(e));
  c.connect();
  assert.equal(c.status, 'connecting');
  await waitFor('acked', () => c.status === 'live' && c.pending === 0);
  assert.deepEqual(
    events.map((e) => e.status),
    ['connecting', 'live', 'live'],
    'connecting, live with the edit pending, then acked',
  );
  assert.deepEqual(events.at(-1), { status: 'live', pending: 0, serverSeq: 1, restored: true, readOnly: false, error: null });
  c.disconnect();
  assert.equal(c.status, 'offline');
  assert.equal(events.at(-1).status, 'offline');
  off();
  c.connect();
  await waitFor('live again', () => c.status === 'live');
  assert.equal(events.at(-1).status, 'offline', 'no events after unsubscribing');
  assert.throws(() => c.onStatus(42), { code: 'INVALID_ARGUMENT' });
});

test('edits made while disconnected are sent once after connect', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const { a, b, ca, cb } = await s.pair('offline');
  ca.disconnect();
  a.insert(0, 'written offline');
  a.increment('n');
  b.insert(0, 'meanwhile ');
  assert.equal(ca.status, 'offline');
  assert.equal(ca.pending, 'written offline'.length + 1, 'one per character and one increment');
  await waitFor('b acked', () => cb.pending === 0);
  const before = relay.updates.length;
  ca.connect();
  await waitFor('converged', () => a.text() === b.text() && b.counter('n') === 1 && ca.pending === 0);
  assert.match(a.text(), /written offline/);
  assert.match(a.text(), /meanwhile /);
  assert.equal(relay.updates.length, before + 1, 'the offline edits went out in one update');
  // Reconnecting with nothing new sends nothing.
  ca.disconnect();
  ca.connect();
  await waitFor('live', () => ca.status === 'live');
  await sleep(30);
  assert.equal(relay.updates.length, before + 1);
  assert.deepEqual(a.encode(), b.encode());
});

test('the client reconnects after the server drops the socket', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const statuses = [];
  const { a, b, ca, cb } = await s.pair('drop', (ca) => ca.onStatus((e) => statuses.push(e.status)));
  const connections = relay.connections;
  relay.dropAll();
  await waitFor('offline', () => statuses.includes('offline'));
  await waitFor('both back', () => relay.connections >= connections + 2 && ca.status === 'live' && cb.status === 'live');
  assert.deepEqual(statuses.slice(0, 3), ['connecting', 'live', 'offline']);
  assert.equal(statuses.at(-1), 'live');
  assert.equal(ca.lastError, null, 'cleared once live again');
  a.insert(0, 'after the drop');
  await waitFor('synced', () => b.text() === 'after the drop');
});

test('a fatal close code stops reconnecting', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  relay.refuseWith = 4005; // UNAUTHORIZED
  const c = s.client(relay.url, 'secret', new Doc(), { ...fast, token: 'wrong' });
  const events = [];
  c.onStatus((e) => events.push(e));
  c.connect();
  await waitFor('stopped', () => c.lastError?.fatal === true);
  assert.equal(c.status, 'offline');
  assert.equal(c.lastError.code, 'UNAUTHORIZED');
  assert.equal(events.at(-1).error.code, 'UNAUTHORIZED');
  await sleep(100);
  assert.equal(relay.connections, 1, 'no reconnect after a fatal close');
  assert.throws(() => c.connect(), { name: 'QuireError', code: 'UNAUTHORIZED' });
});

test('a non-fatal close code is retried with backoff', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  relay.refuseWith = 4008; // OVERLOADED
  const c = s.client(relay.url, 'busy', new Doc());
  c.connect();
  await waitFor('a few attempts', () => relay.connections >= 3);
  assert.equal(c.lastError.code, 'RATE_LIMITED');
  assert.equal(c.lastError.fatal, false);
  relay.refuseWith = null;
  await waitFor('live', () => c.status === 'live', 5000);
});

test('the resume point is saved in storage and sent on the next session', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const saved = new Map();
  const storage = { get: async (k) => saved.get(k) ?? null, set: (k, v) => { saved.set(k, v); } };
  const doc = new Doc();
  const c = s.client(relay.url, 'resume', doc, { ...fast, storage });
  c.connect();
  doc.insert(0, 'abc');
  await waitFor('acked', () => c.status === 'live' && c.pending === 0);
  doc.insert(3, 'def');
  await waitFor('acked', () => c.pending === 0 && c.serverSeq === 2);
  await waitFor('saved', () => saved.get(`quire:doc:resume:${doc.replicaId}`)?.startsWith('quire1 7:2 0 '));
  c.disconnect();
  // A reload: same document state, a new client reading the same storage.
  const reloaded = Doc.decode(doc.encode(), { replicaId: doc.replicaId });
  const c2 = s.client(relay.url, 'resume', reloaded, { ...fast, storage });
  c2.connect();
  await waitFor('live', () => c2.status === 'live');
  assert.deepEqual(relay.hellos.at(-1).resume, { serverSeq: 2, epoch: 7 });
  assert.equal(c2.serverSeq, 2);
});

test('a storage that fails does not stop syncing', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = { get: () => Promise.reject(new Error('no disk')), set: () => Promise.reject(new Error('full')) };
  const doc = new Doc();
  const c = s.client(relay.url, 'flaky', doc, { ...fast, storage });
  c.connect();
  doc.insert(0, 'x');
  await waitFor('acked', () => c.status === 'live' && c.pending === 0);
});

test('a silent server is detected by the heartbeat and reconnected', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  relay.silent = true;
  const c = s.client(relay.url, 'quiet', new Doc(), { ...fast, heartbeatIntervalMs: 20, heartbeatTimeoutMs: 80 });
  const errors = [];
  c.onStatus((e) => e.error && errors.push(e.error.code));
  c.connect();
  await waitFor('heartbeat timeout', () => errors.includes('HEARTBEAT_TIMEOUT'));
  relay.silent = false;
  await waitFor('reconnected', () => relay.connections >= 2 && c.status === 'live');
});

test('garbage from the server closes the connection, not the module', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const errors = [];
  const { a, b } = await s.pair('garbage', (_ca, cb) => cb.onStatus((e) => e.error && errors.push(e.error.code)));
  relay.garbage = Uint8Array.from([1, 5, 0xff, 0xff, 0xff]);
  a.insert(0, 'x');
  await waitFor('protocol error', () => errors.includes('PROTOCOL'));
  relay.garbage = null;
  await waitFor('b recovers the edit on reconnect', () => b.text() === 'x');
  b.insert(1, 'y');
  await waitFor('a has it', () => a.text() === 'xy');
});

test('offline and online events of the host close and reopen the connection', async (t) => {
  // Node has no window events: stand in for them while the client is made.
  const handlers = {};
  globalThis.addEventListener = (type, f) => { handlers[type] = f; };
  globalThis.removeEventListener = (type, f) => { if (handlers[type] === f) delete handlers[type]; };
  t.after(() => {
    delete globalThis.addEventListener;
    delete globalThis.removeEventListener;
  });
  const s = scope(t);
  const relay = await s.relay();
  const c = s.client(relay.url, 'network', new Doc());
  assert.deepEqual(Object.keys(handlers).sort(), ['offline', 'online']);
  c.connect();
  await waitFor('live', () => c.status === 'live');
  handlers.offline();
  assert.equal(c.status, 'offline');
  await sleep(60);
  assert.equal(relay.connections, 1, 'no reconnect while the host is offline');
  handlers.online();
  assert.equal(c.status, 'connecting', 'reconnects at once');
  await waitFor('live again', () => c.status === 'live');
  c.free();
  assert.deepEqual(handlers, {}, 'free() removes the listeners');
});

test('bad arguments throw Errors with codes', async () => {
  const doc = new Doc();
  assert.throws(() => new SyncClient('ws://x', 'bad id!', doc, fast), { name: 'QuireError', code: 'INVALID_ARGUMENT' });
  assert.throws(() => new SyncClient(42, 'ok', doc, fast), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new SyncClient('ws://x', 'ok', doc, { ...fast, backoff: { initialMs: -1 } }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new SyncClient('ws://x', 'ok', doc, { ...fast, storage: {} }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new SyncClient('ws://x', 'ok', doc, { ...fast, token: 'a\uD800' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => new SyncClient('ws://x', 'ok', doc, { WebSocket: 'nope' }), { code: 'INVALID_ARGUMENT' });
  if (globalThis.WebSocket === undefined) {
    assert.throws(() => new SyncClient('ws://x', 'ok', doc), { code: 'NO_WEBSOCKET' });
  }
  // An unusable URL stops the client with a coded error instead of throwing later.
  const c = new SyncClient('not a url', 'ok', doc, fast);
  c.connect();
  assert.equal(c.lastError.code, 'CONNECT');
  c.free();
  doc.insert(0, 'still usable');
  assert.equal(doc.text(), 'still usable');
});

test('against quire-relay: an offline client and a live one both edit and converge', { skip: !relayReady && `no usable ${relayBin}` }, async (t) => {
  const { url } = await startRelay(t);
  const s = scope(t);
  const a = new Doc();
  const b = new Doc();
  const ca = s.client(url, 'real-relay', a);
  const cb = s.client(url, 'real-relay', b);
  ca.connect();
  cb.connect();
  a.insert(0, 'shared ');
  await waitFor('b has it', () => b.text() === 'shared ', 10_000);
  ca.disconnect();
  a.insert(7, 'offline-A');
  b.insert(0, 'live-B ');
  b.increment('n', 2);
  await waitFor('b acked', () => cb.pending === 0, 10_000);
  assert.equal(a.text(), 'shared offline-A');
  ca.connect();
  await waitFor('converged', () => a.text() === b.text() && ca.pending === 0 && a.counter('n') === 2, 10_000);
  assert.equal(a.text(), 'live-B shared offline-A', 'every edit exactly once');
  await waitFor('same server seq', () => ca.serverSeq === cb.serverSeq);
  assert.deepEqual(a.encode(), b.encode());
});
