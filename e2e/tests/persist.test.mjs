// SyncClient's default persistence in a real browser: IndexedDB keeps the
// document and its outbox across a reload, Web Locks keep two tabs apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDemo, typeAt, converged, waitLive, editorText } from '../support/browser.mjs';
import { relayAndBrowser } from '../support/setup.mjs';

const env = relayAndBrowser();
let n = 0;
const freshDoc = () => `persist-${process.pid}-${++n}`;
const count = (text, s) => text.split(s).length - 1;
const replicaOf = (page) => page.evaluate(() => String(window.quireDoc.replicaId));

// Serves the page's files from what was fetched before whenever the relay
// (which serves them) is down, so the page can be reloaded then.
async function cacheFiles(context, relay) {
  const cache = new Map();
  await context.route(`${relay.http}/**`, async (route) => {
    const url = route.request().url();
    try {
      const response = await route.fetch();
      const body = await response.body();
      cache.set(url, { status: response.status(), headers: response.headers(), body });
      await route.fulfill({ response, body });
    } catch {
      const hit = cache.get(url);
      await (hit ? route.fulfill(hit) : route.abort());
    }
  });
}

test('edits made while the relay is down survive a reload and arrive exactly once', async () => {
  const doc = freshDoc();
  const context = await env.browser.newContext();
  await cacheFiles(context, env.relay);
  const a = await context.newPage();
  const errors = [];
  a.on('pageerror', (e) => errors.push(e));
  await a.goto(`${env.relay.http}/?doc=${doc}`);
  await waitLive(a);
  await typeAt(a, 0, 'online. ');
  await a.waitForFunction(() => document.querySelector('#pending').textContent === '0');
  const replica = await replicaOf(a);

  await env.relay.kill();
  await a.waitForFunction(() => document.querySelector('#status').dataset.status !== 'live');
  await typeAt(a, null, 'typed while the relay is down');
  await new Promise((r) => setTimeout(r, 500)); // past the save delay
  await a.reload();
  await a.waitForFunction(() => document.querySelector('#editor').value.includes('typed while the relay is down'));
  assert.equal(await replicaOf(a), replica, 'the reloaded page took its replica back');
  assert.notEqual(await a.textContent('#status'), 'live');

  await env.relay.start();
  await waitLive(a, 30_000);
  await a.waitForFunction(() => document.querySelector('#pending').textContent === '0', null, { timeout: 15_000 });
  const b = await openDemo(env.browser, env.relay, doc);
  const text = await converged([a, b], (t) => t.includes('typed while the relay is down'));
  assert.equal(text, 'online. typed while the relay is down');
  assert.equal(count(text, 'typed while the relay is down'), 1);
  const stored = await (await fetch(`${env.relay.http}/docs/${doc}`)).json();
  assert.equal(stored.text, text, 'the relay holds the edits once');
  assert.deepEqual(errors, []);
  await context.close();
  await b.context().close();
});

test('a tab opened while the last one closes takes its unsent edits over', async () => {
  const doc = freshDoc();
  const context = await env.browser.newContext();
  await cacheFiles(context, env.relay);
  const a = await context.newPage();
  await a.goto(`${env.relay.http}/?doc=${doc}`);
  await waitLive(a);
  const replica = await replicaOf(a);
  await env.relay.kill();
  await a.waitForFunction(() => document.querySelector('#status').dataset.status !== 'live');
  await typeAt(a, 0, 'unsent in the closing tab');
  await new Promise((r) => setTimeout(r, 500)); // past the save delay

  // The new tab starts while the old one still holds its record's lock.
  const b = await context.newPage();
  await b.goto(`${env.relay.http}/?doc=${doc}`);
  await b.waitForFunction(() => window.quireDoc);
  await a.close();
  await b.waitForFunction(() => document.querySelector('#editor').value === 'unsent in the closing tab');
  assert.equal(await replicaOf(b), replica, 'the new tab took the closed tab\'s replica over');

  await env.relay.start();
  await waitLive(b, 30_000);
  await b.waitForFunction(() => document.querySelector('#pending').textContent === '0', null, { timeout: 15_000 });
  const stored = await (await fetch(`${env.relay.http}/docs/${doc}`)).json();
  assert.equal(stored.text, 'unsent in the closing tab');
  await context.close();
});

test('two tabs of one browser never share a replica, and read each other\'s saved state', async () => {
  const doc = freshDoc();
  const context = await env.browser.newContext();
  const open = async () => {
    const page = await context.newPage();
    await page.goto(`${env.relay.http}/?doc=${doc}`);
    await waitLive(page);
    return page;
  };
  const a = await open();
  await typeAt(a, 0, 'first tab');
  await a.waitForFunction(() => document.querySelector('#pending').textContent === '0');
  const b = await open();
  await converged([a, b], (t) => t === 'first tab');
  assert.notEqual(await replicaOf(a), await replicaOf(b));
  await typeAt(b, null, ', second tab');
  await converged([a, b], (t) => t === 'first tab, second tab');
  assert.equal(await editorText(a), 'first tab, second tab');
  await context.close();
});
