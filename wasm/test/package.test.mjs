// The package as users get it: `require` and `import` by name through the
// exports map, the browser entry with no init call, and `npm pack` installed
// into a fresh project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pkgDir, quire } from './helpers.mjs';

const USE = `
  const doc = new Doc({ replicaId: 7n });
  doc.insert(0, 'a😀');
  const copy = Doc.decode(doc.encode());
  if (copy.text() !== 'a😀' || doc.length !== 3) throw new Error('wrong text');
  try { doc.insert(9, 'x'); throw new Error('no throw'); }
  catch (e) { if (e.code !== 'INVALID_INDEX') throw e; }
  console.log('ok ' + doc.replicaId);
`;

const node = (cwd, args) => execFileSync(process.execPath, args, { cwd, encoding: 'utf8' }).trim();

/** A temp project whose node_modules/quire is `install(dir)`. */
function project(t, install) {
  const dir = mkdtempSync(join(tmpdir(), 'quire-project-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'package.json'), '{ "name": "app", "private": true }\n');
  install(dir);
  return dir;
}

function checkBothModuleSystems(dir) {
  assert.equal(node(dir, ['-e', `const { Doc } = require('quire');${USE}`]), 'ok 7');
  assert.equal(node(dir, ['--input-type=module', '-e', `import { Doc } from 'quire';${USE}`]), 'ok 7');
  const both = `
    import { createRequire } from 'node:module';
    import * as esm from 'quire';
    const cjs = createRequire(import.meta.url)('quire');
    console.log(esm.Doc === cjs.Doc);
  `;
  assert.equal(node(dir, ['--input-type=module', '-e', both]), 'true');
}

test('require and import resolve by name and share one module instance', (t) => {
  const dir = project(t, (d) => {
    mkdirSync(join(d, 'node_modules'));
    symlinkSync(pkgDir, join(d, 'node_modules', 'quire'), 'dir');
  });
  checkBothModuleSystems(dir);
});

test('the ES module entry exports what the CommonJS build exports', () => {
  const cjs = createRequire(import.meta.url)(join(pkgDir, 'node/quire.js'));
  assert.deepEqual(Object.keys(quire).sort(), Object.keys(cjs).sort());
  assert.ok(Object.keys(quire).includes('Doc'));
});

test('the browser entry instantiates itself (top-level await, no init call)', () => {
  // Node's fetch cannot read file: URLs, which is all the browser glue needs.
  const script = `
    import { readFileSync } from 'node:fs';
    import { fileURLToPath } from 'node:url';
    globalThis.fetch = async (url) => new Response(readFileSync(fileURLToPath(url)),
      { headers: { 'content-type': 'application/wasm' } });
    const { Doc } = await import(${JSON.stringify(new URL('web/index.js', `file://${pkgDir}`).href)});
    ${USE}
  `;
  assert.equal(node(pkgDir, ['--input-type=module', '-e', script]), 'ok 7');
});

test('npm pack installs into a fresh project offline and works', (t) => {
  const packDir = mkdtempSync(join(tmpdir(), 'quire-pack-'));
  t.after(() => rmSync(packDir, { recursive: true, force: true }));
  execFileSync('npm', ['pack', pkgDir, '--pack-destination', packDir, '--silent'], { encoding: 'utf8' });
  const tgz = readdirSync(packDir).find((f) => f.endsWith('.tgz'));
  assert.ok(tgz, 'npm pack wrote no tarball');
  const dir = project(t, (d) =>
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--silent', join(packDir, tgz)], {
      cwd: d,
    }),
  );
  checkBothModuleSystems(dir);
  const files = execFileSync('npm', ['pack', pkgDir, '--dry-run', '--json'], { encoding: 'utf8' });
  const paths = JSON.parse(files)[0].files.map((f) => f.path);
  for (const p of ['package.json', 'quire.d.ts', 'node/quire.js', 'node/quire_bg.wasm', 'node/index.mjs', 'web/index.js', 'web/quire_bg.wasm']) {
    assert.ok(paths.includes(p), `${p} missing from the tarball`);
  }
});
