// SyncClient against the real quire-relay with auth on: tokens minted here
// with node:crypto (as an app server would) and by `quire-relay token`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { Doc, scope, sleep, waitFor } from './sync_client_support.mjs';
import { authReady, relayBin, startRelay } from './real_relay.mjs';

const SECRET = 'node-test-secret-0123456789abcdef0123456789';
const skip = !authReady && `no quire-relay with auth at ${relayBin}`;

// The token format of docs/PROTOCOL.md ("Auth tokens"), version 1;
// `replica` (a bigint, e.g. `doc.replicaId`) pins the token to that client.
function mint(doc, scopeName, ttlSeconds = 3600, secret = SECRET, replica = undefined) {
  const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
  const claims = { v: 1, doc, scope: scopeName, exp };
  if (replica !== undefined) claims.replica = replica.toString(16).padStart(16, '0');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const tag = createHmac('sha256', secret).update(payload).digest('base64url');
  return `${payload}.${tag}`;
}

// The relay's environment: the secret itself, and no secret file.
function authEnv() {
  const env = { ...process.env, QUIRE_AUTH_SECRET: SECRET };
  delete env.QUIRE_AUTH_SECRET_FILE;
  return env;
}

// How many handshakes the relay refused for `reason`.
async function refused(http, reason) {
  const text = await (await fetch(`${http}/metrics`)).text();
  const m = new RegExp(`quire_auth_refused_total\\{reason="${reason}"\\} (\\d+)`).exec(text);
  return m ? Number(m[1]) : 0;
}

test('against quire-relay with auth: write tokens sync, a read token only reads', { skip }, async (t) => {
  const { url, http } = await startRelay(t, { env: authEnv() });
  const s = scope(t);
  const a = new Doc();
  const r = new Doc();
  // One token from the relay's own minting command, one from node:crypto.
  const cli = spawnSync(relayBin, ['token', '--doc', 'shared', '--scope', 'write', '--ttl', '600'], {
    encoding: 'utf8',
    env: authEnv(),
  });
  assert.equal(cli.status, 0, cli.stderr);
  const ca = s.client(url, 'shared', a, { token: cli.stdout.trim() });
  const cr = s.client(url, 'shared', r, { token: mint('shared', 'read', 3600, SECRET, r.replicaId) });
  ca.connect();
  cr.connect();
  const readOnly = [];
  cr.onStatus((e) => readOnly.push(e.readOnly));
  assert.equal(cr.readOnly, false, 'unknown before the handshake');
  a.insert(0, 'from the writer');
  await waitFor('the reader has it', () => r.text() === 'from the writer', 10_000);
  assert.equal(cr.readOnly, true);
  assert.equal(ca.readOnly, false);
  assert.ok(readOnly.includes(true), 'onStatus told the reader');
  await waitFor('writer acked', () => ca.pending === 0, 10_000);

  r.insert(0, 'reader edit ');
  await waitFor('read_only reported', () => cr.lastError?.code === 'READ_ONLY', 10_000);
  assert.equal(cr.lastError.fatal, false);
  assert.equal(cr.status, 'live', 'a refused update does not end the session');
  a.insert(a.text().length, '!');
  await waitFor('the reader still follows', () => r.text().endsWith('from the writer!'), 10_000);
  assert.equal(a.text(), 'from the writer!', 'the writer never sees the refused edit');

  const bearer = { headers: { authorization: `Bearer ${mint('shared', 'read')}` } };
  const doc = await (await fetch(`${http}/docs/shared`, bearer)).json();
  assert.equal(doc.text, 'from the writer!');
  assert.equal((await fetch(`${http}/docs/shared`)).status, 401);
});

test('against quire-relay with auth: a bad token stops the client without a reconnect loop', { skip }, async (t) => {
  const { url, http } = await startRelay(t, { env: authEnv() });
  const s = scope(t);
  const cases = [
    ['another secret', mint('locked', 'write', 3600, 'x'.repeat(40)), 'bad_signature'],
    ['another document', mint('elsewhere', 'write'), 'wrong_document'],
    ['expired', mint('locked', 'write', -3600), 'expired'],
    ['another replica', mint('locked', 'write', 3600, SECRET, 12345n), 'wrong_replica'],
    ['no token', undefined, 'missing'],
  ];
  for (const [what, token, reason] of cases) {
    const doc = new Doc();
    doc.insert(0, 'never sent');
    const statuses = [];
    const c = s.client(url, 'locked', doc, token === undefined ? {} : { token });
    c.onStatus((e) => statuses.push(e.status));
    c.connect();
    await waitFor(`${what}: stopped`, () => c.lastError !== null && c.status === 'offline', 10_000);
    assert.equal(c.lastError.code, 'UNAUTHORIZED', what);
    assert.equal(c.lastError.fatal, true, what);
    assert.match(c.lastError.message, /unauthorized/, what);
    // Backoff starts at 10 ms here: a retrying client would have knocked again.
    await sleep(300);
    assert.equal(await refused(http, reason), 1, `${what}: one attempt only`);
    assert.equal(c.status, 'offline');
    assert.ok(!statuses.includes('live'), what);
    assert.throws(() => c.connect(), { code: 'UNAUTHORIZED' }, what);
    assert.equal(c.pending, doc.text().length, `${what}: the edit stays pending`);
  }
  const bearer = { headers: { authorization: `Bearer ${mint('locked', 'read')}` } };
  assert.equal((await fetch(`${http}/docs/locked`, bearer)).status, 404, 'nothing was stored');
});
