// Shared by the tests: the built package (wasm/pkg) and small utilities.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

export const pkgDir = fileURLToPath(new URL('../pkg/', import.meta.url));
if (!existsSync(`${pkgDir}package.json`)) {
  throw new Error(`${pkgDir} is missing: run scripts/build-wasm first`);
}

// The Node ES module entry of the built package.
export const quire = await import(new URL('../pkg/node/index.mjs', import.meta.url));
export const { Doc } = quire;

/** Asserts that `fn` throws a QuireError with `code`. */
export function throwsCode(fn, code) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Error, `expected an Error, got ${typeof e}: ${e}`);
    assert.equal(e.name, 'QuireError');
    assert.equal(e.code, code, `message: ${e.message}`);
    assert.ok(e.message.length > 0);
    return true;
  });
}

/** A deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const bytesEqual = (a, b) => Buffer.from(a).equals(Buffer.from(b));
