// doc.presence between two docs exchanging bodies by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, throwsCode } from './helpers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sync(a, b) {
  b.applyDelta(a.encodeDelta(b.version()));
  a.applyDelta(b.encodeDelta(a.version()));
}

function pair(options = {}) {
  const a = new Doc({ replicaId: 1n, ...options });
  const b = new Doc({ replicaId: 2n, ...options });
  return { a, b };
}

test('users() lists the local user and peers with resolved cursors', () => {
  const { a, b } = pair();
  a.insert(0, 'ab\ncd😀e');
  sync(a, b);
  assert.deepEqual(b.presence.users(), [], 'nobody before setLocal');
  const body = a.presence.setLocal({ name: 'Ann', color: '#e91e63', data: '{"x":1}', cursor: 8, selection: { start: 3, end: 8 } });
  assert.ok(body instanceof Uint8Array);
  assert.equal(b.presence.apply(body), true);
  assert.equal(b.presence.apply(body), false, 'a duplicate changes nothing');
  const ann = { id: '1', name: 'Ann', color: '#e91e63', data: '{"x":1}', cursor: 8, selection: { start: 3, end: 8 }, line: 1, column: 5, idle: false };
  assert.deepEqual(b.presence.users(), [{ ...ann, local: false }]);
  assert.deepEqual(a.presence.users(), [{ ...ann, local: true }]);
  assert.equal(BigInt(a.presence.users()[0].id), a.replicaId);
  b.presence.setLocal({ name: 'Bob', color: '#000' });
  const bob = b.presence.users()[0];
  assert.deepEqual(bob, { id: '2', name: 'Bob', color: '#000', data: '', cursor: null, selection: null, line: null, column: null, idle: false, local: true });
});

test('a remote cursor follows a remote insert before it and a delete over it', () => {
  const { a, b } = pair();
  a.insert(0, 'hello world');
  sync(a, b);
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red', cursor: 6 }));
  const cursor = () => b.presence.users().find((u) => u.id === '1').cursor;
  assert.equal(cursor(), 6);
  b.insert(0, '>> '); // b's own edit before a's cursor
  assert.equal(cursor(), 9);
  a.insert(0, '😀'); // a remote edit, two UTF-16 units
  sync(a, b);
  assert.equal(cursor(), 11);
  assert.equal(b.text().slice(cursor()), 'world');
  b.delete(8, 5); // covers the cursor
  assert.equal(cursor(), 8);
  // The local user's cursor follows edits too ('>> ' and the emoji).
  assert.equal(a.presence.users()[0].cursor, 3 + 2 + 6);
});

test('indexes are clamped to the text and bad states throw with codes', () => {
  const doc = new Doc({ replicaId: 1n });
  doc.insert(0, 'abc');
  doc.presence.setLocal({ name: 'n', color: 'c', cursor: 99 });
  assert.equal(doc.presence.users()[0].cursor, 3);
  const p = doc.presence;
  throwsCode(() => p.setLocal(null), 'INVALID_ARGUMENT');
  throwsCode(() => p.setLocal({ color: 'c' }), 'INVALID_ARGUMENT');
  throwsCode(() => p.setLocal({ name: 'n', color: 'c', cursor: -1 }), 'INVALID_INDEX');
  throwsCode(() => p.setLocal({ name: 'n', color: 'c', cursor: 1.5 }), 'INVALID_ARGUMENT');
  throwsCode(() => p.setLocal({ name: 'n', color: 'c', selection: 4 }), 'INVALID_ARGUMENT');
  throwsCode(() => p.setLocal({ name: 'n', color: 'c', selection: { start: 0 } }), 'INVALID_ARGUMENT');
  throwsCode(() => p.setLocal({ name: 'x'.repeat(300), color: 'c' }), 'LIMIT');
  throwsCode(() => p.setLocal({ name: 'n', color: 'c', data: 'x'.repeat(9000) }), 'LIMIT');
  throwsCode(() => p.apply(new Uint8Array([1, 2, 3])), 'DECODE');
  throwsCode(() => p.onPresence(5), 'INVALID_ARGUMENT');
  throwsCode(() => new Doc({ presence: 5 }), 'INVALID_ARGUMENT');
  throwsCode(() => new Doc({ presence: { timeoutMs: 0 } }), 'INVALID_ARGUMENT');
  assert.equal(doc.presence.users()[0].cursor, 3, 'a refused state changes nothing');
});

test('onPresence hears joins, changes and leaves; unsubscribing stops it', () => {
  const { a, b } = pair();
  const events = [];
  const off = b.presence.onPresence((e) => events.push(e));
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' }));
  b.presence.apply(a.presence.keepalive());
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'blue' }));
  b.presence.apply(a.presence.leave());
  assert.deepEqual(events, [{ changed: ['1'] }, { changed: ['1'] }, { changed: ['1'] }]);
  assert.deepEqual(b.presence.users(), []);
  assert.equal(a.presence.keepalive(), undefined, 'no keepalive after leaving');
  assert.deepEqual(a.presence.users(), []);
  off();
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' }));
  assert.equal(events.length, 3);
  assert.equal(b.presence.users().length, 1);
});

test('a peer goes idle after idleAfterMs and active again on activity', async () => {
  const { a, b } = pair({ presence: { idleAfterMs: 40, timeoutMs: 10_000 } });
  const events = [];
  const off = b.presence.onPresence((e) => events.push(e));
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' }));
  assert.equal(b.presence.users()[0].idle, false);
  await sleep(80);
  assert.equal(b.presence.users()[0].idle, true);
  assert.equal(a.presence.users()[0].idle, true, 'the local user idles too');
  assert.deepEqual(events, [{ changed: ['1'] }, { changed: ['1'] }], 'the timer told the listener');
  b.presence.apply(a.presence.keepalive());
  assert.equal(b.presence.users()[0].idle, true, 'a keepalive is not activity');
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' }));
  assert.equal(b.presence.users()[0].idle, false);
  assert.equal(events.length, 3);
  off();
});

test('a silent peer expires after timeoutMs', async () => {
  const { a, b } = pair({ presence: { timeoutMs: 40 } });
  const events = [];
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' }));
  assert.equal(b.presence.users().length, 1);
  await sleep(70);
  assert.deepEqual(b.presence.users(), [], 'hidden once expired, even without a listener');
  const off = b.presence.onPresence((e) => events.push(e));
  await sleep(20);
  assert.deepEqual(events, [{ changed: ['1'] }], 'and removed by the timer while listened to');
  off();
});

test('a listener may read presence; its exception is rethrown after the change', () => {
  const { a, b } = pair();
  let seen;
  b.presence.onPresence(() => {
    seen = b.presence.users().map((u) => u.name);
    throw new Error('listener');
  });
  assert.throws(() => b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red' })), /listener/);
  assert.deepEqual(seen, ['Ann']);
  assert.equal(b.presence.users().length, 1);
});

test('presence is not part of the document', () => {
  const { a, b } = pair();
  a.insert(0, 'x');
  const before = a.encode();
  b.presence.apply(a.presence.setLocal({ name: 'Ann', color: 'red', cursor: 1 }));
  assert.deepEqual(a.encode(), before);
  assert.equal(Doc.decode(before).presence.users().length, 0);
});
