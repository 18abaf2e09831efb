// ES module entry for Node. It re-exports the CommonJS build so that
// `import` and `require` share one module instance and one memory.
export * from './quire.js';
