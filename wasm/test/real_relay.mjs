// The real quire-relay binary for the JS tests, when built (cargo build -p
// quire-relay; QUIRE_RELAY_BIN names it): tests that need it are skipped
// otherwise, unless QUIRE_REQUIRE_RELAY is set.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const relayBin = process.env.QUIRE_RELAY_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'quire-relay');

// A stale build (e.g. the skeleton) lacks the flags used here.
const help = existsSync(relayBin)
  ? spawnSync(relayBin, ['--help'], { encoding: 'utf8' }).stdout ?? ''
  : '';
export const relayReady = /--memory/.test(help);
export const authReady = /--auth-secret-file/.test(help);

if (process.env.QUIRE_REQUIRE_RELAY && !(relayReady && authReady)) {
  throw new Error(`QUIRE_REQUIRE_RELAY is set but ${relayBin} is not a usable quire-relay`);
}

// Starts the relay in memory on a free port (in `env`, by default this
// process's); killed when the test ends. Returns its WebSocket and HTTP
// base URLs.
export async function startRelay(t, { env = process.env } = {}) {
  // No static files: missing directories are fine.
  const none = join(root, 'target', 'no-such-dir');
  const proc = spawn(relayBin, ['--memory', '--listen', '127.0.0.1:0', '--www', none, '--pkg', none], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  t.after(() => proc.kill('SIGKILL'));
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const port = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`relay did not start:\n${log}`)), 20_000);
    proc.stdout.on('data', (d) => {
      log += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
      if (m) { clearTimeout(timer); ok(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); fail(new Error(`relay exited with ${code}:\n${log}`)); });
  });
  return { url: `ws://127.0.0.1:${port}`, http: `http://127.0.0.1:${port}` };
}
