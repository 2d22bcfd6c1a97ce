// Builds causalmix for browsers with esbuild:
//   dist/browser/causalmix.js          the library (src/browser.ts), ESM, WGSL shaders embedded
//   dist/browser/example/main.js       the example page's script (examples/browser/main.ts, vega inside)
//   dist/browser/example/worker.js     the example's training worker (examples/browser/worker.ts)
// The build fails when a Node built-in or Dawn (the `webgpu` package) would reach a bundle. The one
// tolerated case is a dynamic import on a Node-only path (src/engine/device.ts loads node:fs only
// after it has checked that it runs in Node): that import becomes a stub that throws if called.
// Types: `npm run build` emits dist/src/browser.d.ts; `--types` here runs that step too.
//
//   node scripts/build-browser.mjs [--no-example] [--minify] [--types]
import { builtinModules } from 'node:module';
import { execFileSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
/** Files allowed to reach a Node built-in through a dynamic import behind a Node-only check. */
const NODE_ONLY_DYNAMIC = new Set(['src/engine/device.ts']);

/** Rejects Node built-ins (stubbing the tolerated dynamic imports) and the `webgpu` package. */
const browserOnly = {
  name: 'causalmix-browser-only',
  setup(build) {
    const reject = (text) => ({ errors: [{ text }] });
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'causalmix-probe') return undefined;
      const from = relative(root, args.importer).replaceAll('\\', '/');
      if (args.path === 'webgpu' || args.path.startsWith('webgpu/'))
        return reject(`'${args.path}' (Dawn) is Node-only; it must not reach a browser bundle`);
      if (!BUILTINS.has(args.path)) return undefined;
      // a bare name ('events', 'buffer') may be a browser polyfill package: that one is fine
      if (!args.path.startsWith('node:')) {
        const probe = await build.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'causalmix-probe',
        });
        if (probe.errors.length === 0 && !probe.external) return undefined;
      }
      if (args.kind === 'dynamic-import' && NODE_ONLY_DYNAMIC.has(from))
        return { path: args.path, namespace: 'causalmix-node-stub' };
      return reject(
        `the Node built-in '${args.path}' (${args.kind}) must not reach a browser bundle`,
      );
    });
    build.onLoad({ filter: /.*/, namespace: 'causalmix-node-stub' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`causalmix: '${args.path}' is Node-only and not available in a browser`)});`,
      loader: 'js',
    }));
  },
};

/** Second line of defence: what the bundle's metafile says went in, and what the text imports. */
function checkBundle(result, problems) {
  for (const input of Object.keys(result.metafile.inputs)) {
    if (/(^|\/)node_modules\/webgpu\//.test(input))
      problems.push(`${input} (the webgpu package) is in the bundle`);
  }
  for (const file of (result.outputFiles ?? []).filter((f) => !f.path.endsWith('.map'))) {
    const m = file.text.match(/(?:from\s*|import\s*\(\s*|require\s*\(\s*)["'](node:[a-z_/]+)["']/);
    if (m) problems.push(`${relative(root, file.path)} still imports ${m[1]}`);
  }
}

async function bundle(name, options) {
  let result;
  try {
    result = await esbuild.build({
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      conditions: ['browser'],
      sourcemap: 'linked',
      metafile: true,
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
      plugins: [browserOnly],
      ...options,
    });
  } catch (e) {
    const errors = (e.errors ?? []).map((m) => {
      const at = m.location ? `${m.location.file}:${m.location.line}: ` : '';
      return `${at}${m.text}`;
    });
    throw new Error(
      `${name} bundle failed:\n  - ${errors.length > 0 ? errors.join('\n  - ') : e.message}`,
    );
  }
  const problems = [];
  checkBundle(result, problems);
  if (problems.length > 0)
    throw new Error(
      `${name}: Node-only code reached the browser bundle:\n  - ${problems.join('\n  - ')}`,
    );
  return result;
}

/** Builds the browser bundles; returns the written files with their sizes in bytes. */
export async function buildBrowser({ example = true, minify = false, types = false } = {}) {
  // the WGSL goes in as text: regenerate src/generated/shaders.ts so the bundle has today's shaders
  execFileSync(process.execPath, [join(root, 'scripts', 'embed-shaders.mjs')], {
    stdio: 'inherit',
  });
  const out = join(root, 'dist', 'browser');
  const results = [
    await bundle('library', {
      entryPoints: [join(root, 'src', 'browser.ts')],
      outfile: join(out, 'causalmix.js'),
      minify,
    }),
  ];
  if (example) {
    results.push(
      await bundle('example', {
        entryPoints: {
          main: join(root, 'examples', 'browser', 'main.ts'),
          worker: join(root, 'examples', 'browser', 'worker.ts'),
        },
        outdir: join(out, 'example'),
        minify,
      }),
    );
  }
  const { mkdir, writeFile } = await import('node:fs/promises');
  const written = [];
  for (const r of results) {
    for (const f of r.outputFiles) {
      await mkdir(dirname(f.path), { recursive: true });
      await writeFile(f.path, f.contents);
      if (!f.path.endsWith('.map'))
        written.push({ path: relative(root, f.path), bytes: f.contents.length });
    }
  }
  if (types) {
    // the d.ts files of the whole library (dist/src/browser.d.ts is the browser entry's)
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
        '-p',
        join(root, 'tsconfig.build.json'),
        '--emitDeclarationOnly',
      ],
      { stdio: 'inherit' },
    );
    written.push({ path: 'dist/src/browser.d.ts', bytes: 0 });
  }
  return written;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = new Set(process.argv.slice(2));
  const t0 = Date.now();
  try {
    const files = await buildBrowser({
      example: !args.has('--no-example'),
      minify: args.has('--minify'),
      types: args.has('--types'),
    });
    for (const f of files)
      console.log(`  ${f.path}${f.bytes > 0 ? `  ${(f.bytes / 1024).toFixed(0)} KiB` : ''}`);
    console.log(`browser build done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
