// Undo and redo of the local replica's own edits (doc.undo/redo, canUndo/canRedo).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Doc, throwsCode } from './helpers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Each edit its own undo step.
const stepwise = (replicaId) => new Doc({ replicaId, undoCaptureMs: 0 });

function sync(a, b) {
  b.applyDelta(a.encodeDelta(b.version()));
  a.applyDelta(b.encodeDelta(a.version()));
}

test('undo and redo revert inserts, deletes, title and counters', () => {
  const doc = stepwise(1n);
  assert.equal(doc.canUndo, false);
  assert.equal(doc.undo(), false, 'nothing to undo');
  doc.insert(0, 'hello world');
  doc.delete(5, 6);
  doc.setTitle('greeting');
  doc.increment('likes', 3);
  assert.equal(doc.canUndo, true);
  assert.equal(doc.canRedo, false);
  assert.equal(doc.undo(), true);
  assert.equal(doc.counter('likes'), 0);
  assert.equal(doc.undo(), true);
  assert.equal(doc.title, '');
  assert.equal(doc.undo(), true);
  assert.equal(doc.text(), 'hello world');
  assert.equal(doc.undo(), true);
  assert.equal(doc.text(), '');
  assert.equal(doc.canUndo, false);
  assert.equal(doc.canRedo, true);
  assert.equal(doc.redo(), true);
  assert.equal(doc.redo(), true);
  assert.equal(doc.text(), 'hello');
  assert.equal(doc.redo(), true);
  assert.equal(doc.redo(), true);
  assert.equal(doc.title, 'greeting');
  assert.equal(doc.counter('likes'), 3);
  assert.equal(doc.redo(), false, 'nothing to redo');
});

test('a new edit clears the redo stack', () => {
  const doc = stepwise(1n);
  doc.insert(0, 'a');
  doc.undo();
  assert.equal(doc.canRedo, true);
  doc.insert(0, 'b');
  assert.equal(doc.canRedo, false);
  assert.equal(doc.redo(), false);
});

test('edits within the capture window form one step, later ones another', async () => {
  const doc = new Doc({ replicaId: 1n, undoCaptureMs: 40 });
  doc.insert(0, 'a');
  doc.insert(1, 'b');
  doc.insert(2, 'c');
  await sleep(80);
  doc.insert(3, 'd');
  doc.undo();
  assert.equal(doc.text(), 'abc');
  doc.undo();
  assert.equal(doc.text(), '');
  doc.redo();
  assert.equal(doc.text(), 'abc');
});

test('the default capture window groups quick typing into one step', () => {
  const doc = new Doc({ replicaId: 1n });
  for (const [i, ch] of [...'typing'].entries()) doc.insert(i, ch);
  assert.equal(doc.undo(), true);
  assert.equal(doc.text(), '');
  assert.equal(doc.canUndo, false);
});

test('undo never removes the other replica\'s text, interleaved or not', () => {
  const a = stepwise(1n);
  const b = stepwise(2n);
  a.insert(0, 'hello');
  sync(a, b);
  b.insert(5, ' world');
  b.insert(0, '>> ');
  sync(a, b);
  a.insert(5, 'XX'); // inside a's first insert
  sync(a, b);
  assert.equal(a.text(), '>> heXXllo world');
  a.undo();
  assert.equal(a.text(), '>> hello world');
  a.undo();
  assert.equal(a.text(), '>>  world', "a's first insert is gone, b's text stays");
  sync(a, b);
  assert.equal(b.text(), '>>  world', 'the undo syncs like any edit');
  a.redo();
  sync(a, b);
  assert.equal(a.text(), '>> hello world');
  assert.equal(b.text(), a.text());
});

test('undo of a delete brings back text that another replica deleted too, once', () => {
  const a = stepwise(1n);
  const b = stepwise(2n);
  a.insert(0, 'abcdef');
  sync(a, b);
  a.delete(1, 3);
  b.delete(2, 2);
  sync(a, b);
  assert.equal(a.text(), 'aef');
  a.undo();
  sync(a, b);
  assert.equal(a.text(), b.text());
  assert.equal(a.text(), 'abcdef');
});

test('undo and redo tell onChange listeners, as local changes', () => {
  const doc = stepwise(1n);
  doc.insert(0, 'ab');
  doc.insert(1, 'XY');
  doc.setTitle('t');
  const events = [];
  doc.onChange((e) => events.push(e));
  doc.undo();
  doc.undo();
  doc.redo();
  assert.deepEqual(events, [
    { origin: 'local', changes: [{ type: 'title' }] },
    { origin: 'local', changes: [{ type: 'delete', index: 1, length: 2 }] },
    { origin: 'local', changes: [{ type: 'insert', index: 1, length: 2 }] },
  ]);
  doc.increment('n', 2);
  events.length = 0;
  doc.undo();
  assert.deepEqual(events, [{ origin: 'local', changes: [{ type: 'counter', name: 'n' }] }]);
  events.length = 0;
  assert.equal(doc.redo(), true);
  assert.equal(doc.redo(), false);
  assert.equal(events.length, 1, 'no event when nothing changed');
});

test('bad undo options throw with codes', () => {
  throwsCode(() => new Doc({ undoCaptureMs: -1 }), 'INVALID_ARGUMENT');
  throwsCode(() => new Doc({ undoCaptureMs: 'soon' }), 'INVALID_ARGUMENT');
  const doc = Doc.decode(new Doc({ replicaId: 1n }).encode(), { replicaId: 2n, undoCaptureMs: 0 });
  doc.insert(0, 'x');
  assert.equal(doc.undo(), true);
});

test('using the document from an onChange listener during undo is allowed', () => {
  const doc = stepwise(1n);
  doc.insert(0, 'abc');
  let seen = null;
  doc.onChange(() => {
    seen = [doc.text(), doc.canUndo, doc.canRedo];
  });
  doc.undo();
  assert.deepEqual(seen, ['', false, true]);
});
