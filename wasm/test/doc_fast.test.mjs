// Doc.insert/delete take a fast path (wasm/js/doc_fast.js: types checked in
// JS, typed exports) for numbers and well-formed strings, and the checked
// exports otherwise. Both must behave as one method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Doc, pkgDir, throwsCode } from './helpers.mjs';

// One code unit, a longer string, an empty one, and a surrogate pair.
const TEXTS = ['x', 'xy', '', '😀'];

test('every fast path throws the checked errors and leaves the doc unchanged', () => {
  const doc = new Doc({ replicaId: 1n });
  doc.insert(0, 'a😀b');
  for (const text of TEXTS) {
    throwsCode(() => doc.insert(5, text), 'INVALID_INDEX');
    throwsCode(() => doc.insert(-1, text), 'INVALID_INDEX');
    throwsCode(() => doc.insert(2, text), 'INVALID_INDEX'); // inside the pair
    for (const bad of [1.5, NaN, Infinity, 2 ** 60]) {
      throwsCode(() => doc.insert(bad, text), 'INVALID_ARGUMENT');
    }
  }
  throwsCode(() => doc.delete(0, 5), 'INVALID_INDEX');
  throwsCode(() => doc.delete(-1, 1), 'INVALID_INDEX');
  throwsCode(() => doc.delete(0, -1), 'INVALID_INDEX');
  throwsCode(() => doc.delete(1, 1), 'INVALID_INDEX'); // half the pair
  throwsCode(() => doc.delete(0.5, 1), 'INVALID_ARGUMENT');
  throwsCode(() => doc.delete(0, 0.5), 'INVALID_ARGUMENT');
  throwsCode(() => doc.delete(NaN, 1), 'INVALID_ARGUMENT');
  assert.equal(doc.text(), 'a😀b');
  assert.equal(doc.canUndo, true);
});

test('the fast and the checked path give the same messages', () => {
  const doc = new Doc({ replicaId: 1n });
  const message = (fn) => {
    try {
      fn();
    } catch (e) {
      return e.message;
    }
    assert.fail('no throw');
  };
  // A non-number length sends delete down the checked path; its index
  // error comes first either way.
  assert.equal(message(() => doc.delete(-1, 1)), message(() => doc.delete(-1, '1')));
  assert.equal(message(() => doc.delete(1.5, 1)), message(() => doc.delete(1.5, '1')));
  // A lone surrogate sends insert down the checked path.
  assert.equal(message(() => doc.insert(-1, 'x')), message(() => doc.insert(-1, '\uD800')));
  assert.equal(message(() => doc.insert(1.5, 'xy')), message(() => doc.insert(1.5, 'x\uD800')));
});

test('lone surrogates and wrong types never reach the fast path', () => {
  const doc = new Doc({ replicaId: 1n });
  for (const bad of ['\uD800', '\uDFFF', 'a\uDC00', '\uD83D\uD83D', new String('x'), 1, null]) {
    throwsCode(() => doc.insert(0, bad), 'INVALID_ARGUMENT');
  }
  for (const bad of ['0', 0n, null, undefined, new Number(0)]) {
    throwsCode(() => doc.insert(bad, 'x'), 'INVALID_ARGUMENT');
    throwsCode(() => doc.delete(bad, 0), 'INVALID_ARGUMENT');
    throwsCode(() => doc.delete(0, bad), 'INVALID_ARGUMENT');
  }
  assert.equal(doc.text(), '');
  // Non-surrogates just outside the surrogate range take the one-unit path.
  doc.insert(0, '\uD7FF');
  doc.insert(1, '\uE000');
  assert.equal(doc.text(), '\uD7FF\uE000');
});

test('fast-path edits are reported to listeners and undone in capture steps', () => {
  const doc = new Doc({ replicaId: 1n, undoCaptureMs: 60_000 });
  const events = [];
  doc.onChange((e) => events.push(e));
  doc.insert(0, 'h');
  doc.insert(1, 'ey');
  doc.insert(3, '😀');
  doc.insert(3, '');
  doc.delete(0, 1);
  doc.delete(0, 0);
  assert.deepEqual(
    events.map((e) => [e.origin, ...e.changes.map((c) => `${c.type} ${c.index} ${c.length}`)]),
    [
      ['local', 'insert 0 1'],
      ['local', 'insert 1 2'],
      ['local', 'insert 3 2'],
      ['local', 'delete 0 1'],
    ],
  );
  assert.equal(doc.text(), 'ey😀');
  assert.equal(doc.undo(), true); // one step: the edits were within the window
  assert.equal(doc.text(), '');
  assert.equal(doc.canUndo, false);
});

test('a listener error is rethrown once and the edit stands', () => {
  const doc = new Doc({ replicaId: 1n });
  doc.onChange(() => {
    throw new Error('listener');
  });
  assert.throws(() => doc.insert(0, 'x'), /listener/);
  assert.throws(() => doc.insert(1, 'yz'), /listener/);
  assert.throws(() => doc.delete(0, 1), /listener/);
  assert.equal(doc.text(), 'yz');
});

test('require, import and the browser glue all carry the fast path', () => {
  const cjs = createRequire(import.meta.url)(join(pkgDir, 'node/quire.js'));
  assert.equal(cjs.Doc.prototype.insert, Doc.prototype.insert);
  assert.match(String(Doc.prototype.insert), /__insertUnit/);
  assert.match(String(Doc.prototype.delete), /__delete/);
  const fast = readFileSync(new URL('../js/doc_fast.js', import.meta.url), 'utf8');
  for (const glue of ['node/quire.js', 'web/quire.js']) {
    assert.ok(readFileSync(join(pkgDir, glue), 'utf8').includes(fast), glue);
  }
});
