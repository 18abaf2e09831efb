// Doc.insert/delete take a fast path (wasm/js/doc_fast.js: types checked in
// JS, typed exports) for numbers and well-formed strings, and the checked
// exports otherwise. Both must behave as one method.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Doc, pkgDir, rng, throwsCode } from './helpers.mjs';

/** The message of what `fn` throws. */
function message(fn) {
  try {
    fn();
  } catch (e) {
    return e.message;
  }
  assert.fail('no throw');
}

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

test('edits match a JS string as the text gains and loses surrogate pairs', () => {
  // While every character is one code unit the binding skips the UTF-16
  // conversion; random edits cross that boundary both ways.
  const next = rng(7);
  const doc = new Doc({ replicaId: 1n });
  let model = '';
  const pieces = ['a', 'é', 'xyz', '😀', 'b😀c', '\n'];
  for (let step = 0; step < 2000; step++) {
    const at = Math.floor(next() * (model.length + 1));
    const splitsPair = (i) => i > 0 && i < model.length && (model.charCodeAt(i) & 0xfc00) === 0xdc00;
    if (next() < 0.6 || model.length === 0) {
      const text = pieces[Math.floor(next() * pieces.length)];
      if (splitsPair(at)) {
        throwsCode(() => doc.insert(at, text), 'INVALID_INDEX');
      } else {
        doc.insert(at, text);
        model = model.slice(0, at) + text + model.slice(at);
      }
    } else {
      const len = Math.min(Math.floor(next() * 4), model.length - at);
      if (splitsPair(at) || splitsPair(at + len)) {
        throwsCode(() => doc.delete(at, len), 'INVALID_INDEX');
      } else {
        doc.delete(at, len);
        model = model.slice(0, at) + model.slice(at + len);
      }
    }
    throwsCode(() => doc.insert(model.length + 1, 'x'), 'INVALID_INDEX');
    throwsCode(() => doc.delete(model.length, 1), 'INVALID_INDEX');
    assert.equal(doc.length, model.length);
  }
  assert.equal(doc.text(), model);
});

test('out-of-range edits report the same positions with or without surrogate pairs', () => {
  // Both four code units long; only the second takes the UTF-16 path.
  const bmp = new Doc({ replicaId: 1n });
  bmp.insert(0, 'abcd');
  const astral = new Doc({ replicaId: 2n });
  astral.insert(0, 'ab😀');
  const both = (fn) => assert.equal(message(() => fn(bmp)), message(() => fn(astral)));
  both((d) => d.insert(5, 'x'));
  both((d) => d.insert(5, ''));
  both((d) => d.delete(2, 3));
  both((d) => d.delete(5, 1));
  both((d) => d.delete(1, Number.MAX_SAFE_INTEGER));
});
