// Two real browser pages editing one document through a real relay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDemo, typeAt, converged, setOnline, waitLive, editorText } from '../support/browser.mjs';
import { relayAndBrowser } from '../support/setup.mjs';

const env = relayAndBrowser();
let n = 0;
const freshDoc = () => `e2e-${process.pid}-${++n}`;
const count = (text, s) => text.split(s).length - 1;

test('two pages typing at different and at the same positions converge', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await typeAt(a, 0, 'alpha ');
  await converged([a, b], (t) => t === 'alpha ');
  // Different positions, concurrently.
  await Promise.all([typeAt(a, 0, '[start]'), typeAt(b, null, '[end]')]);
  // The same position, concurrently.
  await Promise.all([typeAt(a, 0, 'AAAA'), typeAt(b, 0, 'BBBB')]);
  const text = await converged([a, b], (t) => t.length === 'alpha [start][end]AAAABBBB'.length);
  for (const part of ['alpha', '[start]', '[end]', 'AAAA', 'BBBB']) {
    assert.equal(count(text, part), 1, `${part} once in ${JSON.stringify(text)}`);
  }
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context().close();
  await b.context().close();
});

test('a page offline by the toggle keeps typing, comes back, and nothing is lost or duplicated', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await typeAt(a, 0, 'shared. ');
  await converged([a, b], (t) => t === 'shared. ');

  await setOnline(a, false);
  await a.waitForFunction(() => document.querySelector('#status').dataset.status === 'offline');
  await typeAt(a, null, 'from-a-offline ');
  await typeAt(b, 0, 'from-b-online ');
  assert.ok(Number(await a.textContent('#pending')) > 0, 'offline edits are pending');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!(await editorText(b)).includes('from-a-offline'), 'nothing leaks while offline');

  await setOnline(a, true);
  await waitLive(a);
  const text = await converged([a, b], (t) => t.includes('from-a-offline') && t.includes('from-b-online'));
  for (const part of ['shared.', 'from-a-offline', 'from-b-online']) {
    assert.equal(count(text, part), 1, `${part} once in ${JSON.stringify(text)}`);
  }
  await a.waitForFunction(() => document.querySelector('#pending').textContent === '0');
  await a.context().close();
  await b.context().close();
});

test('a page reloaded after editing offline keeps its edits and syncs them', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await setOnline(a, false);
  await typeAt(a, 0, 'survives a reload');
  await new Promise((r) => setTimeout(r, 400)); // past the autosave delay
  await a.reload();
  await waitLive(a);
  const text = await converged([a, b], (t) => t.includes('survives a reload'));
  assert.equal(count(text, 'survives a reload'), 1);
  await a.context().close();
  await b.context().close();
});

test('pages reconnect by themselves after the relay is killed and restarted', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await typeAt(a, 0, 'before the crash. ');
  await converged([a, b], (t) => t === 'before the crash. ');

  await env.relay.kill();
  await a.waitForFunction(() => document.querySelector('#status').dataset.status !== 'live');
  await typeAt(a, null, 'during-a ');
  await typeAt(b, 0, 'during-b ');
  await env.relay.start();
  await waitLive(a, 30_000);
  await waitLive(b, 30_000);
  const text = await converged([a, b], (t) => t.includes('during-a') && t.includes('during-b'), 30_000);
  for (const part of ['before the crash.', 'during-a', 'during-b']) {
    assert.equal(count(text, part), 1, `${part} once in ${JSON.stringify(text)}`);
  }
  await a.context().close();
  await b.context().close();
});

test('title and counter are shared, and a screenshot of two pages is saved', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await a.fill('#title', 'Meeting notes');
  await b.click('#like');
  await a.click('#like');
  await typeAt(a, 0, 'Agenda:\n- sync engine demo\n- offline editing\n');
  await typeAt(b, null, '- questions?\n');
  await converged([a, b], (t) => t.includes('questions'));
  for (const p of [a, b]) {
    await p.waitForFunction(() => document.querySelector('#title').value === 'Meeting notes');
    await p.waitForFunction(() => document.querySelector('#likes').textContent === '2');
  }

  const shots = await Promise.all([a, b].map((p) => p.screenshot()));
  const board = await env.browser.newPage({ viewport: { width: 1980, height: 660 } });
  const imgs = shots.map((s) => `<img src="data:image/png;base64,${s.toString('base64')}">`).join('');
  await board.setContent(`<body style="margin:0;display:flex;gap:20px;background:#ddd;overflow:hidden">${imgs}</body>`);
  const out = resolve(import.meta.dirname, '../../docs');
  mkdirSync(out, { recursive: true });
  await board.screenshot({ path: join(out, 'demo.png') });
  await board.close();
  await a.context().close();
  await b.context().close();
});

test('Ctrl-Z undoes only this page\'s typing, everywhere, and Shift-Ctrl-Z redoes it', async () => {
  const doc = freshDoc();
  const a = await openDemo(env.browser, env.relay, doc);
  const b = await openDemo(env.browser, env.relay, doc);
  await typeAt(b, 0, 'theirs');
  await converged([a, b], (t) => t === 'theirs');
  await new Promise((r) => setTimeout(r, 600)); // a new undo step
  await typeAt(a, 0, 'mine ');
  await converged([a, b], (t) => t === 'mine theirs');

  await a.keyboard.press('Control+z');
  await converged([a, b], (t) => t === 'theirs');
  await a.keyboard.press('Control+Shift+z');
  await converged([a, b], (t) => t === 'mine theirs');
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context().close();
  await b.context().close();
});
