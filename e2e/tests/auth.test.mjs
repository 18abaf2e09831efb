// The demo against a relay with auth on: the page takes its token from
// `?token=`; without a valid one it stops with UNAUTHORIZED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { openDemo, typeAt, converged } from '../support/browser.mjs';
import { relayAndBrowser } from '../support/setup.mjs';

const secret = 'e2e-secret-e2e-secret-e2e-secret-0123456789';
const env = relayAndBrowser({ QUIRE_AUTH_SECRET: secret });

function token(doc, scope) {
  const claims = { v: 1, doc, scope, exp: Math.floor(Date.now() / 1000) + 600 };
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}

test('pages with a write token for the document sync; a page without one stops', async () => {
  const doc = `auth-${process.pid}`;
  const a = await openDemo(env.browser, env.relay, doc, `&token=${token(doc, 'write')}`);
  const b = await openDemo(env.browser, env.relay, doc, `&token=${token(doc, 'write')}`);
  await typeAt(a, 0, 'signed in');
  await converged([a, b], (t) => t === 'signed in');

  const context = await env.browser.newContext();
  const c = await context.newPage();
  await c.goto(`${env.relay.http}/?doc=${doc}&token=${token('another', 'write')}`);
  await c.waitForFunction(() => window.quireClient?.lastError?.code === 'UNAUTHORIZED', null, { timeout: 15_000 });
  assert.notEqual(await c.$eval('#status', (e) => e.dataset.status), 'live');
  assert.equal(await c.$eval('#editor', (e) => e.value), '', 'nothing of the document reached it');

  // A read token: the page follows the document with its editor locked.
  const r = await openDemo(env.browser, env.relay, doc, `&token=${token(doc, 'read')}`);
  await converged([r], (t) => t === 'signed in');
  await r.waitForFunction(() => document.querySelector('#editor').readOnly, null, { timeout: 15_000 });
  assert.equal(await r.$eval('#like', (e) => e.disabled), true);
  await typeAt(a, 9, '!');
  await converged([a, r], (t) => t === 'signed in!');
  assert.equal(await a.$eval('#editor', (e) => e.readOnly), false, 'a writer may edit');
  for (const p of [a, b, c, r]) assert.deepEqual(p.errors ?? [], []);
  await r.context().close();
  await context.close();
  await a.context().close();
  await b.context().close();
});
