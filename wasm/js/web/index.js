// Browser entry: instantiates the module once with top-level await, so
// importers use `Doc` right away with no init call.
import init from './quire.js';

await init();

export * from './quire.js';
