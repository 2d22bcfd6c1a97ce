// Jest globalSetup: re-embeds shaders/*.wgsl into src/generated/shaders.ts before any suite
// runs, so `npx jest …` run directly (not through `npm test`) never tests a stale shader.
// A no-op when nothing changed (the file is left untouched).
import { embedShaders } from './embed-shaders.mjs';

export default function globalSetup() {
  embedShaders();
}
