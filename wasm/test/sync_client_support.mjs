// Shared by the SyncClient tests: the package under test, fast reconnects
// over the `ws` WebSocket, polling, and per-test teardown.
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { FakeRelay } from './sync_client_relay.mjs';

const pkg = process.env.QUIRE_PKG ?? '../pkg/node/index.mjs';
export const { Doc, SyncClient } = await import(pkg);

export const fast = { WebSocket, backoff: { initialMs: 10, maxMs: 50 } };
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what, predicate, ms = 3000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

// Everything a test made, torn down at its end even when it fails. The
// relay is a `Relay` (FakeRelay or a subclass); clients get `fast` options
// under their own.
export function scope(t, Relay = FakeRelay) {
  const clients = [];
  let relay;
  t.after(async () => {
    for (const c of clients) {
      try { c.free(); } catch { /* freed by the test */ }
    }
    if (relay) await relay.stop();
  });
  return {
    async relay() {
      relay = await new Relay(Doc).start();
      return relay;
    },
    client(url, docId, doc, options) {
      const c = new SyncClient(url, docId, doc, { ...fast, ...options });
      clients.push(c);
      return c;
    },
  };
}
