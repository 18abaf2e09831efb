// Unit tests of the demo's textarea binding helpers (no browser needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diff, moveThrough } from '../../www/js/binding.js';

const apply = (before, { at, removed, inserted }) =>
  before.slice(0, at) + inserted + before.slice(at + removed);

test('diff finds the single replace between two texts', () => {
  const cases = [
    ['', 'a'], ['abc', 'abXc'], ['abc', 'ac'], ['abc', ''], ['aaa', 'aaaa'],
    ['hello world', 'hello brave world'], ['same', 'same'], ['abc', 'xyz'],
  ];
  for (const [before, after] of cases) {
    const d = diff(before, after);
    assert.equal(apply(before, d), after, `${before} -> ${after}`);
  }
  assert.deepEqual(diff('abc', 'abXc'), { at: 2, removed: 0, inserted: 'X' });
});

test('diff never splits a surrogate pair', () => {
  // 😀 (d83d de00) -> 😁 (d83d de01): the shared high surrogate must not be kept alone.
  const d = diff('a😀b', 'a😁b');
  assert.deepEqual(d, { at: 1, removed: 2, inserted: '😁' });
  const e = diff('😀😀', '😀');
  assert.equal(e.removed, 2);
  assert.ok(e.at % 2 === 0);
  assert.equal(apply('😀😀', e), '😀');
});

test('carets move through remote inserts and deletes', () => {
  const ins = { type: 'insert', index: 5, length: 3 };
  assert.equal(moveThrough(2, ins), 2);
  assert.equal(moveThrough(5, ins), 5, 'an insert at the caret lands after it');
  assert.equal(moveThrough(6, ins), 9);
  const del = { type: 'delete', index: 5, length: 3 };
  assert.equal(moveThrough(4, del), 4);
  assert.equal(moveThrough(6, del), 5, 'a delete covering the caret moves it to the start');
  assert.equal(moveThrough(8, del), 5);
  assert.equal(moveThrough(10, del), 7);
  assert.equal(moveThrough(3, { type: 'title' }), 3);
});
