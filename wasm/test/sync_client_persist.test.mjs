// SyncClient keeps the document and its outbox in a storage: restore before
// connecting, one replica per live client (Web Locks), unreadable records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, scope, sleep, waitFor } from './sync_client_support.mjs';

// A Map-backed storage: strings only (like localStorage), or binary.
function memoryStorage({ binary = false, async = false } = {}) {
  const map = new Map();
  const later = (v) => (async ? Promise.resolve(v) : v);
  return {
    map,
    binary,
    get: (k) => later(map.get(k) ?? null),
    set: (k, v) => {
      if (!binary) assert.equal(typeof v, 'string', 'a string-only storage gets strings');
      map.set(k, v);
      return later();
    },
    delete: (k) => later(void map.delete(k)),
  };
}

// The Web Locks API (navigator.locks) for one origin: Node 20 has none.
function fakeLocks() {
  const held = new Set();
  return {
    held,
    async request(name, options, callback) {
      if (typeof options === 'function') [callback, options] = [options, {}];
      if (options.ifAvailable && held.has(name)) return callback(null);
      while (held.has(name)) {
        options.signal?.throwIfAborted();
        await sleep(1);
      }
      held.add(name);
      try {
        return await callback({ name });
      } finally {
        held.delete(name);
      }
    },
  };
}

const count = (text, s) => text.split(s).length - 1;
const saved = (storage, docId) => [...storage.map.keys()].filter((k) => k.startsWith(`quire:doc:${docId}:`));

for (const kind of [{ binary: false }, { binary: true, async: true }]) {
  test(`offline edits survive a new Doc and SyncClient and reach the relay once (${kind.binary ? 'binary, async' : 'string'} storage)`, async (t) => {
    const s = scope(t);
    const relay = await s.relay();
    const storage = memoryStorage(kind);
    const peer = new Doc();
    const cp = s.client(relay.url, 'outbox', peer);
    cp.connect();
    await waitFor('peer live', () => cp.status === 'live');

    const doc = new Doc();
    const c1 = s.client(relay.url, 'outbox', doc, { storage });
    doc.insert(0, 'written offline');
    doc.setTitle('kept');
    await waitFor('saved', () => saved(storage, 'outbox').length === 1);
    c1.free();
    await sleep(20);

    const again = new Doc();
    const changes = [];
    again.onChange((e) => changes.push(e));
    const c2 = s.client(relay.url, 'outbox', again, { storage });
    const restored = [];
    c2.onStatus((e) => e.restored && restored.push(again.text()));
    await waitFor('restored', () => c2.restored);
    assert.equal(again.text(), 'written offline', 'restored before `restored` turns true');
    assert.equal(restored[0], 'written offline', 'onStatus tells when it turns true');
    assert.equal(again.replicaId, doc.replicaId, 'the stored replica is taken over');
    assert.equal(again.title, 'kept');
    assert.deepEqual(changes[0].changes[0], { type: 'insert', index: 0, length: 15 });
    c2.connect();
    await waitFor('acked', () => c2.status === 'live' && c2.pending === 0);
    await waitFor('peer has it', () => peer.text() === 'written offline');
    assert.equal(count(relay.room('outbox').doc.text(), 'written offline'), 1);
    assert.equal(relay.updates.length, 1, 'one update: the outbox, once');
    // Undo works on the restored document: new edits only.
    again.insert(15, '!');
    assert.equal(again.undo(), true);
    assert.equal(again.text(), 'written offline');
    await waitFor('converged', () => peer.text() === again.text() && c2.pending === 0);
  });
}

test('a second client on the same storage gets its own replica while the first lives', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = memoryStorage();
  const locks = fakeLocks();
  const a = new Doc();
  const ca = s.client(relay.url, 'tabs', a, { storage, locks });
  a.insert(0, 'from a');
  await waitFor('a saved', () => saved(storage, 'tabs').length === 1);

  const b = new Doc();
  const cb = s.client(relay.url, 'tabs', b, { storage, locks });
  await waitFor('b read a', () => b.text() === 'from a');
  assert.notEqual(b.replicaId, a.replicaId);
  b.insert(0, 'b: ');
  await waitFor('b saved', () => saved(storage, 'tabs').length === 2);

  // Both reach the relay; a's operations only through a.
  ca.connect();
  cb.connect();
  await waitFor('both acked', () => ca.pending === 0 && cb.pending === 0 && ca.status === 'live' && cb.status === 'live');
  await waitFor('converged', () => a.text() === b.text() && a.text() === 'b: from a');
  assert.equal(count(relay.room('tabs').doc.text(), 'from a'), 1);

  // Once a is gone, a new client may take its replica over.
  ca.free();
  await waitFor('a released', () => ![...locks.held].some((n) => n.endsWith(String(a.replicaId))));
  const c = new Doc();
  s.client(relay.url, 'tabs', c, { storage, locks });
  await waitFor('c restored', () => c.text() === 'b: from a');
  assert.equal(c.replicaId, a.replicaId);
});

test('a client starting while the last one closes takes its unsent operations over', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = memoryStorage({ binary: true, async: true });
  const locks = fakeLocks();
  const a = new Doc();
  const ca = s.client(relay.url, 'reload', a, { storage, locks });
  a.insert(0, 'typed offline');
  await waitFor('a saved', () => saved(storage, 'reload').length === 1);

  // As on a reload: the new client starts before the old one has let go.
  const b = new Doc();
  const cb = s.client(relay.url, 'reload', b, { storage, locks });
  await sleep(50);
  a.insert(13, ', then closed');
  ca.free(); // saves, then releases its lock
  await waitFor('b took a over', () => b.text() === 'typed offline, then closed');
  assert.equal(b.replicaId, a.replicaId, 'the waiting client adopted the record');
  cb.connect();
  await waitFor('acked', () => cb.status === 'live' && cb.pending === 0);
  assert.equal(relay.room('reload').doc.text(), 'typed offline, then closed');
});

test('a client gives up waiting for a record a live client keeps', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = memoryStorage();
  const locks = fakeLocks();
  const a = new Doc();
  s.client(relay.url, 'kept', a, { storage, locks });
  a.insert(0, 'unsent');
  await waitFor('a saved', () => saved(storage, 'kept').length === 1);
  const b = new Doc();
  const started = Date.now();
  s.client(relay.url, 'kept', b, { storage, locks });
  await waitFor('b read a', () => b.text() === 'unsent', 5_000);
  assert.notEqual(b.replicaId, a.replicaId);
  assert.ok(Date.now() - started >= 1_000, 'b waited for the lock before giving up');
});

test('unreadable stored records are reported, never fatal, and the doc stays usable', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = memoryStorage();
  storage.map.set('quire:doc:bad', '12 34');
  storage.map.set('quire:doc:bad:12', 'garbage');
  storage.map.set('quire:doc:bad:34', 'quire1 - 0 AAAAAAAA');
  const doc = new Doc();
  const c = s.client(relay.url, 'bad', doc, { storage });
  const codes = [];
  c.onStatus((e) => e.error && codes.push(e.error.code));
  await waitFor('reported', () => codes.includes('STORAGE'));
  assert.equal(c.lastError.code, 'STORAGE');
  assert.equal(c.lastError.fatal, false);
  assert.match(c.lastError.message, /quire:doc:bad:(12|34)/);
  doc.insert(0, 'fine');
  c.connect();
  await waitFor('live and acked', () => c.status === 'live' && c.pending === 0);
  assert.equal(relay.room('bad').doc.text(), 'fine');
  await waitFor('saved', () => saved(storage, 'bad').length === 3);
});

test('a failing storage is reported as STORAGE and syncing goes on', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const storage = { get: () => null, set: () => Promise.reject(new Error('disk full')) };
  const doc = new Doc();
  const c = s.client(relay.url, 'full', doc, { storage });
  doc.insert(0, 'x');
  await waitFor('reported', () => c.lastError?.code === 'STORAGE');
  assert.match(c.lastError.message, /disk full/);
  c.connect();
  await waitFor('acked', () => c.status === 'live' && c.pending === 0);
});

test('storage: null keeps nothing, and Node has no default storage', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const doc = new Doc();
  const c = s.client(relay.url, 'none', doc, { storage: null });
  doc.insert(0, 'x');
  c.connect();
  await waitFor('acked', () => c.status === 'live' && c.pending === 0);
  assert.equal(globalThis.indexedDB, undefined);
});

test('a document with edits of its own merges the stored one instead of taking its replica', async (t) => {
  const s = scope(t);
  await s.relay();
  const storage = memoryStorage();
  const first = new Doc();
  const c1 = s.client('ws://127.0.0.1:9', 'own', first, { storage });
  first.insert(0, 'stored');
  await waitFor('saved', () => saved(storage, 'own').length === 1);
  c1.free();
  const doc = new Doc();
  doc.insert(0, 'mine ');
  s.client('ws://127.0.0.1:9', 'own', doc, { storage });
  await waitFor('merged', () => doc.text().includes('stored') && doc.text().includes('mine '));
  assert.notEqual(doc.replicaId, first.replicaId);
  // The stored record keeps its unsent operations for a later client.
  await waitFor('both kept', () => saved(storage, 'own').length === 2);
});
