// One relay and one browser per test file, started before its tests and
// stopped after them.
import { before, after } from 'node:test';
import { Relay } from './relay.mjs';
import { launch } from './browser.mjs';

export function relayAndBrowser(relayEnv = {}) {
  const env = { relay: null, browser: null };
  before(async () => {
    env.relay = await new Relay(relayEnv).start();
    env.browser = await launch();
  });
  after(async () => {
    await env.browser?.close();
    await env.relay?.stop();
  });
  return env;
}
