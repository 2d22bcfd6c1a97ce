/**
 * causalmix for browsers: exactly the main entry's API (src/index.ts is browser-safe by design),
 * so `import … from 'causalmix'` means the same in Node and in a browser bundle.
 * scripts/build-browser.mjs bundles this module into dist/browser/causalmix.js (WGSL embedded) and
 * fails if a Node built-in or Dawn (the `webgpu` package) reaches it, which keeps index.ts honest.
 * The engine finds its adapter through navigator.gpu here; Dawn is only ever loaded in Node, and
 * the Node-only helpers (files on disk, SVG rendering) live in src/node.ts.
 */
export * from './index.js';
