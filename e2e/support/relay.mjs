// Starts the real quire-relay binary for a test: loopback only, a fresh
// data directory, the demo and the wasm package served from the repository.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(root, 'target');
export const relayBin = process.env.QUIRE_RELAY_BIN ?? join(targetDir, 'debug', 'quire-relay');

export class Relay {
  // `env`: extra environment variables (e.g. QUIRE_AUTH_SECRET).
  constructor(env = {}) {
    this.env = env;
    this.dataDir = mkdtempSync(join(tmpdir(), 'quire-e2e-'));
    this.port = 0;
    this.proc = null;
  }

  get http() {
    return `http://127.0.0.1:${this.port}`;
  }

  // Starts the relay (on the previous port after a restart) and waits until
  // it prints its address.
  async start() {
    if (!existsSync(relayBin)) {
      throw new Error(`relay binary not found at ${relayBin}: run cargo build -p quire-relay`);
    }
    const args = [
      '--listen', `127.0.0.1:${this.port}`,
      '--data-dir', this.dataDir,
      '--www', join(root, 'www'),
      '--pkg', join(root, 'wasm', 'pkg'),
      '--heartbeat-interval', '1',
      '--heartbeat-timeout', '4',
    ];
    const proc = spawn(relayBin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc = proc;
    let log = '';
    proc.stderr.on('data', (d) => { log += d; });
    this.port = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`relay did not start in 20 s:\n${log}`)), 20_000);
      proc.stdout.on('data', (d) => {
        log += d;
        const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          ok(Number(m[1]));
        }
      });
      proc.on('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`relay exited with ${code}:\n${log}`));
      });
    });
    return this;
  }

  // SIGKILL: no shutdown path runs.
  async kill() {
    if (!this.proc) return;
    const exited = new Promise((ok) => this.proc.once('exit', ok));
    this.proc.kill('SIGKILL');
    await exited;
    this.proc = null;
  }

  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
