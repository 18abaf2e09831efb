// Deltas, encodings and change events of the built package: replicas that
// converge in any order, failed applies that change nothing, byte-identical
// encodings with the native core, and onChange.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Doc, throwsCode, rng, bytesEqual } from './helpers.mjs';

const vector = (name) =>
  new Uint8Array(readFileSync(new URL(`../../core/tests/vectors/${name}`, import.meta.url)));

test('two docs sync through encodeDelta and applyDelta', () => {
  const alice = new Doc({ replicaId: 1n });
  const bob = new Doc({ replicaId: 2n });
  alice.insert(0, 'Hello world');
  const r = bob.applyDelta(alice.encodeDelta());
  assert.ok(r.applied > 0);
  assert.equal(r.pending, 0);
  alice.insert(5, ',');
  bob.insert(11, '!');
  bob.increment('likes');
  const toBob = alice.encodeDelta(bob.version());
  const toAlice = bob.encodeDelta(alice.version());
  assert.ok(toBob.length < alice.encodeDelta().length);
  bob.applyDelta(toBob);
  alice.applyDelta(toAlice);
  assert.deepEqual(alice.applyDelta(toAlice), { applied: 0, pending: 0 }); // duplicate
  assert.equal(alice.text(), 'Hello, world!');
  assert.deepEqual(alice.snapshot(), bob.snapshot());
  assert.ok(bytesEqual(alice.encode(), bob.encode()));
  assert.equal(alice.counter('likes'), 1);
});

test('applyDelta also takes a whole encoded document, blank replica or not', () => {
  const alice = new Doc({ replicaId: 1n });
  alice.insert(0, 'Hello 👋 world');
  alice.delete(5, 1);
  alice.setTitle('greeting');
  alice.increment('likes', 2);
  const blank = new Doc({ replicaId: 2n });
  const events = [];
  blank.onChange((e) => events.push(e));
  assert.ok(blank.applyDelta(alice.encode()).applied > 0);
  assert.deepEqual(blank.snapshot(), alice.snapshot());
  assert.equal(events.length, 1);
  assert.equal(events[0].origin, 'remote');
  // It edits as itself, and the edit reaches Alice as a delta.
  blank.insert(0, '> ');
  alice.applyDelta(blank.encodeDelta(alice.version()));
  assert.equal(alice.text(), blank.text());
  // A replica with history merges a document too; twice changes nothing.
  const carol = new Doc({ replicaId: 3n });
  carol.insert(0, 'carol ');
  carol.applyDelta(alice.encode());
  assert.deepEqual(carol.applyDelta(alice.encode()), { applied: 0, pending: 0 });
  alice.applyDelta(carol.encodeDelta(alice.version()));
  assert.ok(bytesEqual(carol.encode(), alice.encode()));
  // A damaged document is refused and changes nothing.
  const bad = alice.encode();
  bad[bad.length >> 1] ^= 1;
  const before = carol.encode();
  throwsCode(() => carol.applyDelta(bad), 'DECODE');
  assert.ok(bytesEqual(carol.encode(), before));
});

test('a delta whose dependencies are missing waits as pending', () => {
  const a = new Doc({ replicaId: 1n });
  a.insert(0, 'abc');
  const first = a.encodeDelta();
  const v = a.version();
  a.insert(3, 'def');
  const second = a.encodeDelta(v);
  const b = new Doc({ replicaId: 2n });
  const r1 = b.applyDelta(second);
  assert.equal(r1.applied, 0);
  assert.ok(r1.pending > 0);
  assert.equal(b.pending, r1.pending);
  assert.equal(b.text(), '');
  const r2 = b.applyDelta(first);
  assert.equal(r2.pending, 0);
  assert.equal(b.pending, 0);
  assert.equal(b.text(), 'abcdef');
});

test('invalid deltas throw DECODE and leave the doc byte-for-byte unchanged', () => {
  const doc = new Doc({ replicaId: 1n });
  doc.insert(0, 'keep me');
  doc.setTitle('T');
  const before = doc.encode();
  const other = new Doc({ replicaId: 2n });
  other.insert(0, 'xyz');
  const good = other.encodeDelta();
  const corrupt = good.slice();
  corrupt[corrupt.length - 1] ^= 0xff; // checksum
  const corruptDoc = other.encode();
  corruptDoc[corruptDoc.length >> 1] ^= 0x10;
  const cases = [new Uint8Array(), new Uint8Array([1, 2, 3]), good.slice(0, -3), corrupt, corruptDoc, doc.version()];
  for (const bytes of cases) {
    throwsCode(() => doc.applyDelta(bytes), 'DECODE');
    assert.ok(bytesEqual(doc.encode(), before));
  }
  doc.applyDelta(good);
  assert.equal(doc.text(), 'xyzkeep me');
});

test('encodeDelta rejects a malformed version with DECODE', () => {
  const doc = new Doc();
  doc.insert(0, 'x');
  throwsCode(() => doc.encodeDelta(new Uint8Array([9, 9])), 'DECODE');
  throwsCode(() => doc.encodeDelta(doc.encodeDelta()), 'DECODE');
  assert.ok(bytesEqual(doc.encodeDelta(undefined), doc.encodeDelta()));
});

test('encode and Doc.decode round-trip the document with its history', () => {
  const doc = new Doc({ replicaId: 5n });
  doc.insert(0, 'héllo 😀 世界');
  doc.delete(0, 1);
  doc.setTitle('Title');
  doc.increment('n', -3);
  const bytes = doc.encode();
  const copy = Doc.decode(bytes, { replicaId: 6n });
  assert.equal(copy.replicaId, 6n);
  assert.deepEqual(copy.snapshot(), doc.snapshot());
  assert.ok(bytesEqual(copy.encode(), bytes));
  // The copy keeps editing, and its edits merge back.
  copy.insert(copy.length, '!');
  doc.applyDelta(copy.encodeDelta(doc.version()));
  assert.equal(doc.text(), 'éllo 😀 世界!');
  assert.equal(typeof Doc.decode(bytes).replicaId, 'bigint');
  throwsCode(() => Doc.decode(new Uint8Array([0x51, 0x55])), 'DECODE');
  throwsCode(() => Doc.decode(doc.encodeDelta()), 'DECODE');
  throwsCode(() => Doc.decode(bytes, { replicaId: 'x' }), 'INVALID_ARGUMENT');
});

test('golden vectors from the native core decode and re-encode byte-identically', () => {
  const stored = vector('edited_doc.bin');
  const doc = Doc.decode(stored, { replicaId: 0xfeedn });
  assert.equal(doc.title, 'Groceries');
  assert.equal(doc.text(), 'héllo 😀');
  assert.equal(doc.length, 'héllo 😀'.length);
  assert.equal(doc.counter('votes'), 2);
  assert.equal(doc.counter('views'), 7);
  assert.ok(bytesEqual(doc.encode(), stored));
  // The same history built here from the native delta encodes identically.
  const fromDelta = new Doc({ replicaId: 0xfeedn });
  fromDelta.applyDelta(vector('edited_delta_compact.bin'));
  assert.ok(bytesEqual(fromDelta.encode(), stored));
  assert.ok(bytesEqual(fromDelta.encodeDelta(), vector('edited_delta_compact.bin')));
  // A delta in the envelope of earlier builds still applies.
  const fromLegacy = new Doc({ replicaId: 0xfeedn });
  fromLegacy.applyDelta(vector('edited_delta.bin'));
  assert.ok(bytesEqual(fromLegacy.encode(), stored));
  assert.ok(bytesEqual(Doc.decode(vector('empty_doc.bin')).encode(), vector('empty_doc.bin')));
  // A text over 64 KiB (two LZ4 blocks): wasm writes the native bytes too.
  const long = Doc.decode(vector('long_text_doc.bin'));
  assert.equal(long.length, 1599 * 51);
  assert.ok(long.text().startsWith('00000 the quick brown fox jumps over the lazy dog.\n'));
  assert.ok(bytesEqual(long.encode(), vector('long_text_doc.bin')));
  for (const name of ['backspace_delta.bin', 'backspace_delta_compact.bin']) {
    const backspace = new Doc();
    backspace.applyDelta(vector(name));
    assert.equal(backspace.text(), 'a', name);
    assert.ok(bytesEqual(backspace.encodeDelta(), vector('backspace_delta_compact.bin')), name);
  }
});

/** Random edits on `n` replicas, then deltas exchanged in a shuffled order. */
function converge(seed, n) {
  const rand = rng(seed);
  const pick = (k) => Math.floor(rand() * k);
  const docs = Array.from({ length: n }, (_, i) => new Doc({ replicaId: BigInt(i + 1) }));
  const alphabet = ['a', 'b', 'é', '😀', '漢', 'e\u0301', ' '];
  const deltas = [];
  for (let round = 0; round < 6; round++) {
    for (const doc of docs) {
      const before = doc.version();
      for (let e = 0; e < 5; e++) {
        const text = doc.text();
        // Edit at code point boundaries, like a text field would.
        const points = [...text];
        const at = pick(points.length + 1);
        const index = points.slice(0, at).join('').length;
        if (points.length > 0 && rand() < 0.3) {
          const len = points.slice(at, at + 1 + pick(3)).join('').length;
          doc.delete(index, len);
        } else if (rand() < 0.1) {
          doc.setTitle(`t${seed}-${round}`);
        } else if (rand() < 0.1) {
          doc.increment('c', pick(5) - 2);
        } else {
          doc.insert(index, alphabet[pick(alphabet.length)]);
        }
      }
      deltas.push(doc.encodeDelta(before));
    }
    // Deliver a random subset now (out of order, duplicated); the rest later.
    for (const doc of docs) {
      for (let k = 0; k < deltas.length / 2; k++) doc.applyDelta(deltas[pick(deltas.length)]);
    }
  }
  for (const doc of docs) {
    const order = deltas.map((d) => [rand(), d]).sort((x, y) => x[0] - y[0]);
    for (const [, d] of order) doc.applyDelta(d);
    assert.equal(doc.pending, 0);
  }
  const reference = docs[0].encode();
  for (const doc of docs) {
    assert.deepEqual(doc.snapshot(), docs[0].snapshot());
    assert.ok(bytesEqual(doc.encode(), reference), `seed ${seed}: encodings differ`);
  }
}

test('three docs converge whatever order deltas arrive in (20 seeds)', () => {
  for (let seed = 1; seed <= 20; seed++) converge(seed, 3);
});

test('onChange reports local edits in UTF-16 indexes', () => {
  const doc = new Doc();
  const events = [];
  const off = doc.onChange((e) => events.push(e));
  doc.insert(0, 'a😀b');
  doc.delete(1, 2);
  doc.setTitle('T');
  doc.increment('c');
  doc.insert(0, ''); // no change, no event
  assert.deepEqual(events, [
    { origin: 'local', changes: [{ type: 'insert', index: 0, length: 4 }] },
    { origin: 'local', changes: [{ type: 'delete', index: 1, length: 2 }] },
    { origin: 'local', changes: [{ type: 'title' }] },
    { origin: 'local', changes: [{ type: 'counter', name: 'c' }] },
  ]);
  off();
  doc.insert(0, 'x');
  assert.equal(events.length, 4);
  off(); // twice is harmless
  throwsCode(() => doc.onChange('not a function'), 'INVALID_ARGUMENT');
});

test('onChange reports remote changes that replay onto the old text', () => {
  const a = new Doc({ replicaId: 1n });
  const b = new Doc({ replicaId: 2n });
  a.insert(0, '😀 hello world');
  b.applyDelta(a.encodeDelta());
  const v = b.version();
  a.delete(3, 6); // "hello "
  a.insert(0, '漢字');
  a.insert(a.length, '!');
  a.setTitle('Remote');
  a.increment('k', 2);
  const events = [];
  b.onChange((e) => events.push(e));
  b.applyDelta(a.encodeDelta(v));
  assert.equal(events.length, 1);
  assert.equal(events[0].origin, 'remote');
  // Replaying the text changes on the old string gives the new one.
  let text = '😀 hello world';
  for (const c of events[0].changes) {
    if (c.type === 'insert') {
      // Events carry positions only: mark the inserted units.
      text = text.slice(0, c.index) + '\0'.repeat(c.length) + text.slice(c.index);
    } else if (c.type === 'delete') {
      text = text.slice(0, c.index) + text.slice(c.index + c.length);
    }
  }
  assert.equal(text.length, b.length);
  const kept = [...text].filter((ch) => ch !== '\0').join('');
  assert.equal(kept, '😀 world');
  const types = events[0].changes.map((c) => c.type);
  assert.ok(types.includes('title') && types.includes('counter'));
  assert.deepEqual(events[0].changes.find((c) => c.type === 'counter'), { type: 'counter', name: 'k' });
});

test('listeners may use the doc, and a throwing listener does not undo the change', () => {
  const doc = new Doc();
  const seen = [];
  doc.onChange(() => seen.push(doc.text()));
  const off = doc.onChange(() => {
    throw new Error('listener failed');
  });
  assert.throws(() => doc.insert(0, 'x'), /listener failed/);
  assert.equal(doc.text(), 'x');
  assert.deepEqual(seen, ['x']);
  off();
  doc.insert(1, 'y');
  assert.deepEqual(seen, ['x', 'xy']);
});

test('a listener that unsubscribes itself during an event is not called again', () => {
  const doc = new Doc();
  let calls = 0;
  const off = doc.onChange(() => {
    calls++;
    off();
  });
  doc.insert(0, 'a');
  doc.insert(0, 'b');
  assert.equal(calls, 1);
});
