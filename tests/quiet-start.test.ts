/**
 * Dawn prints start-up notes from native code straight to file descriptor 2 (Vulkan feature
 * warnings with a build machine's source paths, GL limit notes). Without --verbose none of them may
 * reach stderr; with it they do. Run through the CLI on the GL and SwiftShader adapters and on
 * 'auto' with the machine's own Vulkan drivers (where the Vulkan warning comes from), with stderr
 * a socket (Node's child_process, as here: the CLI filters a child's stderr), a shell pipe and a
 * file (the engine holds fd 2 back while it starts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dawnLineFilter, withoutDawnNotes } from '../src/engine/native-stderr.js';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** A line of Dawn's: its "Warning:" notes and the context lines under them. */
const DAWN_LINE =
  /^Warning: |artificially reduced|ArrayDynamicIndexing|While initializing adapter|\.cpp:\d+\)$/m;

const env: NodeJS.ProcessEnv = { ...process.env, EGL_PLATFORM: 'surfaceless' };
delete env.NODE_OPTIONS;
delete env.CAUSALMIX_ADAPTER;
// without it 'auto' enumerates the machine's own Vulkan drivers, as a user's machine does
delete env.VK_ICD_FILENAMES;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'causalmix-quiet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function fit(adapter: string, extra: string[] = [], shell?: string) {
  const args = [
    '--import',
    'tsx',
    'src/cli.ts',
    'fit',
    'tests/fixtures/one-region.csv',
    '--epochs',
    '1',
    '--warm-start',
    '0',
    '--hidden',
    '4',
    '--adapter',
    adapter,
    '--out',
    join(dir, adapter),
    ...extra,
  ];
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const cmd = shell ? '/bin/sh' : process.execPath;
    const argv = shell
      ? ['-c', `"${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')} ${shell}`]
      : args;
    execFile(cmd, argv, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

const adapters = ['gl', 'swiftshader', 'auto'].filter(
  (a) => a !== 'swiftshader' || existsSync(SWIFTSHADER_ICD),
);
if (!adapters.includes('swiftshader'))
  console.log(`quiet-start: swiftshader not tested, ${SWIFTSHADER_ICD} is missing`);

describe.each(adapters)('adapter %s', (adapter) => {
  test('without --verbose: the adapter line on stdout, nothing of Dawn on stderr', async () => {
    const r = await fit(adapter);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^adapter: .+\(webgpu, (core|compatibility)\)$/m);
    expect(r.stderr).not.toMatch(DAWN_LINE);
    expect(r.stderr).toBe('');
  }, 120_000);
});

test('the line filter drops Dawn blocks only, across chunk boundaries', () => {
  let out = '';
  const f = dawnLineFilter((s) => (out += s));
  f.push('causalmix: first\nWarning: Vulkan x required.\n - While initializing adapter\n');
  f.push('    at InitializeImpl (/a/b.cpp:257)\n\nWarn');
  f.push('ing: maxDynamic… artificially reduced\n(node:1) Warning: ours\nlast');
  f.end();
  expect(out).toBe('causalmix: first\n(node:1) Warning: ours\nlast');
  expect(withoutDawnNotes('Warning: a\n - b\nkept\n')).toBe('kept\n');
});

test('--verbose lets the GL adapter notes through', async () => {
  const r = await fit('gl', ['--verbose']);
  expect(r.code).toBe(0);
  expect(r.stderr).toMatch(/^Warning: maxDynamic\w+ artificially reduced/m);
}, 120_000);

test('stderr as a shell pipe, a file, and a file shared with stdout stays free of Dawn', async () => {
  const errFile = join(dir, 'err.txt');
  const outFile = join(dir, 'out.txt');
  const both = join(dir, 'both.txt');
  // the CLI's stderr into `cat` (a FIFO), its stdout into a file: cat's output is the CLI's stderr
  const piped = await fit('auto', [], `2>&1 >'${outFile}' | cat`);
  expect(piped.code).toBe(0);
  expect(piped.stdout).toBe('');
  expect(await readFile(outFile, 'utf8')).toMatch(/^adapter: /m);
  const a = await fit('gl', [], `2>'${errFile}'`);
  expect(a.code).toBe(0);
  expect(await readFile(errFile, 'utf8')).toBe('');
  const b = await fit('auto', [], `>'${both}' 2>&1`);
  expect(b.code).toBe(0);
  const text = await readFile(both, 'utf8');
  expect(text).not.toMatch(DAWN_LINE);
  // stdout's lines are whole and in order after the swap and back
  expect(text).toMatch(/^data: [^\n]+\nlayout: [^\n]+\nrows: /);
  expect(text).toMatch(/^adapter: .+\n1 region, 53 training/m);
  expect(text).toMatch(/wrote .+\n {2}.*dag\.csv, \d+ charts, dashboard\.html\n$/);
}, 180_000);
