// Presence in real browsers: a page sees the other page's caret move and its
// idle state change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, typeAt, converged } from '../support/browser.mjs';
import { relayAndBrowser } from '../support/setup.mjs';

const env = relayAndBrowser();

// The first remote user page `p` knows about, as `users()` reports it.
const remote = (p) => p.evaluate(() => {
  const u = window.quireDoc.presence.users().find((x) => !x.local);
  return u ? { cursor: u.cursor, idle: u.idle, name: u.name } : null;
});

async function until(page, check, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await remote(page);
    if (last && check(last)) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: last seen ${JSON.stringify(last)}`);
}

test('a page sees the other page caret move, follow edits, and go idle', async () => {
  const doc = `presence-${process.pid}`;
  const a = await openDemo(env.browser, env.relay, doc, '&idleMs=2500');
  const b = await openDemo(env.browser, env.relay, doc, '&idleMs=2500');
  await typeAt(b, 0, 'hello world');
  await converged([a, b], (t) => t === 'hello world');

  // B puts its caret after "hello".
  await b.$eval('#editor', (e) => { e.focus(); e.setSelectionRange(5, 5); });
  await until(a, (u) => u.cursor === 5, 'A sees B at 5');
  // A types before B's caret: B's caret, as A sees it, moves right.
  await typeAt(a, 0, '>> ');
  await until(a, (u) => u.cursor === 8, 'B follows the insert before it');
  // The caret is drawn in B's colour on A's page.
  await a.waitForSelector('#carets .caret', { state: 'attached', timeout: 5_000 });
  const listed = await a.$$eval('#users li', (lis) => lis.length);
  assert.equal(listed, 2);

  // B stops: after the idle threshold A shows it idle; B moves: active again.
  await until(a, (u) => u.idle === true, 'B turns idle', 15_000);
  await a.waitForSelector('#users li[data-idle="true"] .badge', { timeout: 5_000 });
  await b.$eval('#editor', (e) => { e.focus(); e.setSelectionRange(2, 2); });
  await until(a, (u) => u.idle === false && u.cursor === 2, 'B active again at 2');
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context().close();
  await b.context().close();
});
