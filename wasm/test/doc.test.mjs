// The Doc API of the built package: edits, UTF-16 indexes, title, counters,
// snapshots, and the errors thrown for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, throwsCode } from './helpers.mjs';

test('new Doc picks a random 64-bit replica id', () => {
  const a = new Doc();
  const b = new Doc();
  assert.equal(typeof a.replicaId, 'bigint');
  assert.notEqual(a.replicaId, b.replicaId);
  assert.ok(a.replicaId >= 0n && a.replicaId < 1n << 64n);
});

test('replicaId can be chosen as a bigint, a decimal string or a safe integer', () => {
  assert.equal(new Doc({ replicaId: 42n }).replicaId, 42n);
  assert.equal(new Doc({ replicaId: '18446744073709551615' }).replicaId, 2n ** 64n - 1n);
  assert.equal(new Doc({ replicaId: 7 }).replicaId, 7n);
  assert.equal(new Doc({}).constructor, Doc);
  for (const bad of [-1n, 2n ** 64n, '0x10', '-3', '', 1.5, -1, {}, true]) {
    throwsCode(() => new Doc({ replicaId: bad }), 'INVALID_ARGUMENT');
  }
  throwsCode(() => new Doc('nope'), 'INVALID_ARGUMENT');
});

test('insert, delete, text and length work in UTF-16 code units', () => {
  const doc = new Doc();
  assert.equal(doc.text(), '');
  assert.equal(doc.length, 0);
  doc.insert(0, 'Hello world');
  doc.insert(5, ',');
  doc.insert(doc.length, '!');
  assert.equal(doc.text(), 'Hello, world!');
  doc.delete(5, 1);
  assert.equal(doc.text(), 'Hello world!');
  assert.equal(doc.length, 12);
  doc.insert(0, '');
  doc.delete(3, 0);
  assert.equal(doc.text(), 'Hello world!');
});

test('emoji, combining marks and CJK use the same indexes as JS strings', () => {
  const doc = new Doc();
  let model = '';
  const edit = (i, del, ins) => {
    doc.delete(i, del);
    doc.insert(i, ins);
    model = model.slice(0, i) + ins + model.slice(i + del);
    assert.equal(doc.text(), model);
    assert.equal(doc.length, model.length);
  };
  edit(0, 0, 'a😀b');
  edit(3, 0, 'e\u0301'); // e + combining acute: two code units
  edit(1, 2, '漢字'); // the emoji (two units) becomes two CJK chars
  edit(0, 0, '👩‍👩‍👧');
  edit(model.length, 0, '🇫🇷');
  edit(2, 0, 'x'); // inside a ZWJ sequence, but on a code point boundary
  assert.equal(doc.text(), model);
});

test('an index inside a surrogate pair is INVALID_INDEX and changes nothing', () => {
  const doc = new Doc();
  doc.insert(0, 'a😀b');
  const before = doc.encode();
  throwsCode(() => doc.insert(2, 'x'), 'INVALID_INDEX');
  throwsCode(() => doc.delete(2, 1), 'INVALID_INDEX');
  throwsCode(() => doc.delete(1, 1), 'INVALID_INDEX');
  assert.deepEqual(doc.encode(), before);
  doc.delete(1, 2);
  assert.equal(doc.text(), 'ab');
});

test('out-of-range and malformed indexes throw with a code', () => {
  const doc = new Doc();
  doc.insert(0, 'abc');
  throwsCode(() => doc.insert(4, 'x'), 'INVALID_INDEX');
  throwsCode(() => doc.insert(-1, 'x'), 'INVALID_INDEX');
  throwsCode(() => doc.delete(2, 2), 'INVALID_INDEX');
  throwsCode(() => doc.delete(0, Number.MAX_SAFE_INTEGER), 'INVALID_INDEX');
  throwsCode(() => doc.delete(-1, 1), 'INVALID_INDEX');
  throwsCode(() => doc.insert(1.5, 'x'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert(NaN, 'x'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert('1', 'x'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert(1n, 'x'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert(undefined, 'x'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert(0, 42), 'INVALID_ARGUMENT');
  throwsCode(() => doc.insert(0), 'INVALID_ARGUMENT');
  throwsCode(() => doc.delete(0), 'INVALID_ARGUMENT');
  assert.equal(doc.text(), 'abc');
});

test('lone surrogates are rejected everywhere a string goes in', () => {
  const doc = new Doc();
  doc.insert(0, 'ok');
  for (const bad of ['\uD800', 'a\uDC00b', 'x\uD83D']) {
    throwsCode(() => doc.insert(0, bad), 'INVALID_ARGUMENT');
    throwsCode(() => doc.setTitle(bad), 'INVALID_ARGUMENT');
    throwsCode(() => doc.increment(bad), 'INVALID_ARGUMENT');
    throwsCode(() => doc.counter(bad), 'INVALID_ARGUMENT');
  }
  assert.equal(doc.text(), 'ok');
  assert.equal(doc.title, '');
  assert.deepEqual(doc.snapshot().counters, {});
});

test('setTitle and title: last writer wins across replicas', () => {
  const a = new Doc({ replicaId: 1n });
  const b = new Doc({ replicaId: 2n });
  assert.equal(a.title, '');
  a.setTitle('First');
  assert.equal(a.title, 'First');
  b.applyDelta(a.encodeDelta());
  b.setTitle('Second'); // b has seen a's write, so b's wins
  a.applyDelta(b.encodeDelta(a.version()));
  assert.equal(a.title, 'Second');
  assert.equal(b.title, 'Second');
  a.setTitle('Ünïcødé 😀');
  assert.equal(a.title, 'Ünïcødé 😀');
  throwsCode(() => a.setTitle('x'.repeat(64 * 1024 + 1)), 'LIMIT');
  throwsCode(() => a.setTitle(1), 'INVALID_ARGUMENT');
  assert.equal(a.title, 'Ünïcødé 😀');
});

test('increment and counter: PN counters, default step 1, negative decrements', () => {
  const doc = new Doc();
  assert.equal(doc.counter('likes'), 0);
  doc.increment('likes');
  doc.increment('likes', 5);
  doc.increment('likes', -2);
  assert.equal(doc.counter('likes'), 4);
  doc.increment('', 1);
  assert.equal(doc.counter(''), 1);
  throwsCode(() => doc.increment('likes', 0.5), 'INVALID_ARGUMENT');
  throwsCode(() => doc.increment('likes', '3'), 'INVALID_ARGUMENT');
  throwsCode(() => doc.increment('likes', 2 ** 60), 'INVALID_ARGUMENT');
  throwsCode(() => doc.increment('x'.repeat(257)), 'LIMIT');
  throwsCode(() => doc.increment(5), 'INVALID_ARGUMENT');
  assert.equal(doc.counter('likes'), 4);
});

test('snapshot returns title, text, counters and the version', () => {
  const doc = new Doc({ replicaId: 9n });
  doc.insert(0, 'body');
  doc.setTitle('T');
  doc.increment('a', 2);
  doc.increment('__proto__', 3);
  const s = doc.snapshot();
  assert.equal(s.title, 'T');
  assert.equal(s.text, 'body');
  assert.equal(s.counters.a, 2);
  assert.ok(Object.hasOwn(s.counters, '__proto__'));
  assert.equal(s.counters['__proto__'], 3);
  assert.deepEqual(Object.keys(s.counters).sort(), ['__proto__', 'a']);
  assert.ok(s.version instanceof Uint8Array);
  assert.deepEqual(s.version, doc.version());
});

test('version is a Uint8Array that grows with edits', () => {
  const doc = new Doc();
  const v0 = doc.version();
  assert.ok(v0 instanceof Uint8Array);
  doc.insert(0, 'x');
  assert.notDeepEqual(doc.version(), v0);
});

test('free releases the document; using it afterwards throws', () => {
  const doc = new Doc();
  doc.insert(0, 'x');
  doc.free();
  assert.throws(() => doc.text());
  // The module is still usable.
  const other = new Doc();
  other.insert(0, 'y');
  assert.equal(other.text(), 'y');
});

test('the module stays usable after many errors', () => {
  const doc = new Doc();
  for (let i = 0; i < 1000; i++) {
    throwsCode(() => doc.insert(i + 1, 'x'), 'INVALID_INDEX');
    throwsCode(() => doc.applyDelta(new Uint8Array([1, 2, 3])), 'DECODE');
  }
  doc.insert(0, 'still fine');
  assert.equal(doc.text(), 'still fine');
});
