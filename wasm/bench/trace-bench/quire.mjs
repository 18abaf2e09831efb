// trace-bench adapter for the npm package `quire` (wasm/pkg, built by
// scripts/build-wasm). Pass this file by path to trace-bench's bench.mjs:
//   node --expose-gc bench.mjs --adapters yjs,PATH/TO/quire.mjs TRACE.json.gz
// Set QUIRE_PKG to another package directory to measure another build.
//
// Uses the package's public JS API only. Positions are UTF-16 code units, as
// trace-bench passes them. Quire has no transactions: every insert/delete is
// its own operation, so there is no transact(); a captured transaction is
// the delta since the version taken before it.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const pkgDir = process.env.QUIRE_PKG
  ? path.resolve(process.env.QUIRE_PKG)
  : fileURLToPath(new URL('../../pkg/', import.meta.url))
const entry = path.join(pkgDir, 'node', 'index.mjs')
if (!fs.existsSync(entry)) {
  throw new Error(`quire adapter: no package at ${pkgDir} (run scripts/build-wasm, or set QUIRE_PKG)`)
}
const { Doc } = await import(pathToFileURL(entry).href)

export const name = 'quire'
export const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version
export const notes = 'Doc; encode = encode() (full history, canonical); merge-remote applies encode() with applyDelta()'

// Fixed, distinct replica ids (Doc() would draw random ones): replica ids
// are never shared between live docs, and runs are reproducible.
let nextReplica = 1000n
const fresh = () => ({ replicaId: nextReplica++ })

export function create (opts = {}) {
  return new Doc(opts.agent != null ? { replicaId: BigInt(opts.agent + 1) } : fresh())
}

export function localReplace (doc, pos, del, ins) {
  if (del > 0) doc.delete(pos, del)
  if (ins !== '') doc.insert(pos, ins)
}

export function text (doc) {
  return doc.text()
}

export function encode (doc) {
  return doc.encode()
}

export function decode (bytes) {
  return Doc.decode(bytes, fresh())
}

// What a peer sends to bring an empty replica up to date: the whole encoded
// document, which applyDelta merges (a blank replica takes it over without
// replaying it). It is half the size of encodeDelta() (see extraSizes).
export function encodeUpdate (doc) {
  return doc.encode()
}

export function mergeInto (doc, bytes) {
  doc.applyDelta(bytes)
}

export function free (doc) {
  doc.free()
}

export function extraSizes (doc) {
  return { 'delta (encodeDelta(), ops only)': doc.encodeDelta().byteLength }
}

// One trace transaction as one update: the delta since the version before it.
export function transactCapture (doc, fn) {
  const before = doc.version()
  fn()
  return doc.encodeDelta(before)
}
