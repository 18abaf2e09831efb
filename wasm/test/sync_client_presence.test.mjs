// SyncClient carrying doc.presence through the fake relay, extended here
// with presence: it forwards each client's body to the others, sends the
// latest ones to a joining client and a "left" entry when a socket closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRelay, TAG } from './sync_client_relay.mjs';
import { Doc, scope as baseScope, sleep, waitFor } from './sync_client_support.mjs';

const varint = (n) => {
  const out = [];
  let v = BigInt(n);
  while (v >= 0x80n) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return out;
};
const readVarint = (b, i) => {
  let n = 0n;
  for (let shift = 0n; ; shift += 7n) {
    const x = b[i++];
    n |= BigInt(x & 0x7f) << shift;
    if (!(x & 0x80)) return [n, i];
  }
};
const frame = (body) => Uint8Array.from([1, TAG.PRESENCE, ...varint(body.length), ...body]);

class PresenceRelay extends FakeRelay {
  constructor(Doc) {
    super(Doc);
    this.presence = new Map(); // socket -> its latest body
    this.presenceFrames = 0;
  }

  accept(ws, req) {
    super.accept(ws, req);
    ws.on('close', () => {
      const body = this.presence.get(ws);
      this.presence.delete(ws);
      if (!body) return;
      // A "left" entry with the client's last clock.
      const [, i] = readVarint(body, 0);
      const client = body.subarray(i, i + 8);
      const [clock] = readVarint(body, i + 8);
      const left = [1, ...client, ...varint(clock), 0, 0];
      for (const room of this.rooms.values()) for (const peer of room.live) peer.send(frame(left));
    });
  }

  frame(ws, room, bytes) {
    if (bytes[1] === TAG.HELLO) {
      super.frame(ws, room, bytes);
      for (const [peer, body] of this.presence) if (peer !== ws && room.live.has(peer)) ws.send(frame(body));
      return;
    }
    if (bytes[1] !== TAG.PRESENCE) return super.frame(ws, room, bytes);
    const [len, i] = readVarint(bytes, 2);
    const body = bytes.slice(i, i + Number(len));
    this.presenceFrames++;
    this.presence.set(ws, body);
    for (const peer of room.live) if (peer !== ws) peer.send(frame(body));
  }
}

// The shared scope on a PresenceRelay, one document, and a pair of clients.
function scope(t) {
  const s = baseScope(t, PresenceRelay);
  let relay;
  return {
    async relay() {
      relay = await s.relay();
      return relay;
    },
    client(doc, options) {
      return s.client(relay.url, 'room', doc, options);
    },
    // Docs 11 and 22 with clients; `before(a, b)` runs before they connect.
    async pair(options = {}, before = () => {}) {
      const a = new Doc({ replicaId: 11n, ...options });
      const b = new Doc({ replicaId: 22n, ...options });
      const ca = this.client(a);
      const cb = this.client(b);
      before(a, b);
      ca.connect();
      cb.connect();
      await waitFor('live', () => ca.status === 'live' && cb.status === 'live');
      return { a, b, ca, cb };
    },
  };
}

const user = (doc, id) => doc.presence.users().find((u) => u.id === String(id));

test('a peer sees the local state and cursor, and it follows a remote insert before it', async (t) => {
  const s = scope(t);
  await s.relay();
  const events = [];
  const { a, b } = await s.pair({}, (a, b) => {
    a.insert(0, 'hello world');
    a.presence.setLocal({ name: 'Ann', color: '#e91e63', cursor: 6 });
    t.after(b.presence.onPresence((e) => events.push(e)));
  });
  await waitFor('b sees Ann', () => user(b, 11)?.cursor === 6 && b.text() === 'hello world');
  assert.ok(events.some((e) => e.changed.includes('11')));
  assert.deepEqual(user(b, 11), {
    id: '11', name: 'Ann', color: '#e91e63', data: '', cursor: 6, selection: null,
    line: 0, column: 6, idle: false, local: false,
  });
  b.presence.setLocal({ name: 'Bob', color: '#000', cursor: 0 });
  await waitFor('a sees Bob', () => user(a, 22)?.name === 'Bob');
  b.insert(0, '>> ');
  await waitFor("Ann's cursor moved on a", () => a.text() === '>> hello world');
  assert.equal(user(b, 11).cursor, 9, 'on b, after its own insert');
  assert.equal(user(a, 11).cursor, 9, 'on a, its own cursor followed the remote insert');
  assert.equal(user(a, 22).cursor, 3, "Bob's cursor was before his insert and moved with it");
});

test('setLocal calls are coalesced: at most one message per ~50 ms', async (t) => {
  const s = scope(t);
  const relay = await s.relay();
  const { a, b } = await s.pair();
  a.insert(0, 'x'.repeat(100));
  const before = relay.presenceFrames;
  for (let i = 0; i <= 100; i++) a.presence.setLocal({ name: 'Ann', color: 'red', cursor: i });
  await waitFor('b has the last cursor', () => user(b, 11)?.cursor === 100);
  const sent = relay.presenceFrames - before;
  assert.ok(sent >= 1 && sent <= 3, `${sent} messages for 101 updates`);
});

test('disconnect sends leave; peers are cleared while offline and come back on reconnect', async (t) => {
  const s = scope(t);
  await s.relay();
  const { a, b, ca } = await s.pair({}, (a, b) => {
    a.presence.setLocal({ name: 'Ann', color: 'red' });
    b.presence.setLocal({ name: 'Bob', color: 'blue' });
  });
  await waitFor('both see each other', () => user(a, 22) && user(b, 11));
  const events = [];
  const off = b.presence.onPresence((e) => events.push(e));
  t.after(off);
  ca.disconnect();
  await waitFor('b forgot Ann', () => !user(b, 11));
  assert.ok(events.some((e) => e.changed.includes('11')));
  assert.equal(ca.status, 'offline');
  assert.deepEqual(a.presence.users().map((u) => u.name), ['Ann'], 'a offline sees only itself');
  ca.connect();
  await waitFor('b sees Ann again', () => user(b, 11)?.name === 'Ann');
  await waitFor('a sees Bob again (join snapshot)', () => user(a, 22)?.name === 'Bob');
});

test('keepalives keep an unchanged peer alive past the timeout; it goes idle', async (t) => {
  const s = scope(t);
  await s.relay();
  const options = { presence: { timeoutMs: 150, idleAfterMs: 100 } };
  const { a, b } = await s.pair(options, (a) => a.presence.setLocal({ name: 'Ann', color: 'red' }));
  await waitFor('b sees Ann', () => user(b, 11));
  const events = [];
  const off = b.presence.onPresence((e) => events.push(e));
  t.after(off);
  await sleep(400);
  assert.ok(user(b, 11), 'still there after more than twice the timeout');
  assert.equal(user(b, 11).idle, true);
  assert.ok(events.some((e) => e.changed.includes('11')), 'told about going idle');
  a.presence.setLocal({ name: 'Ann', color: 'red', cursor: 0 });
  await waitFor('active again', () => user(b, 11)?.idle === false);
});

test('undo and redo reach the peer like any edit', async (t) => {
  const s = scope(t);
  await s.relay();
  const { a, b, ca } = await s.pair({ undoCaptureMs: 0 });
  a.insert(0, 'hello');
  await waitFor('b has hello', () => b.text() === 'hello');
  b.insert(5, ' world');
  await waitFor('a has world', () => a.text() === 'hello world');
  assert.equal(a.undo(), true);
  await waitFor('b sees the undo', () => b.text() === ' world');
  assert.equal(a.text(), ' world');
  assert.equal(a.redo(), true);
  await waitFor('b sees the redo', () => b.text() === 'hello world');
  await waitFor('acked', () => ca.pending === 0);
});
