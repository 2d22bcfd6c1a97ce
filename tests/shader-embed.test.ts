// Shader embedding cannot go stale: scripts/embed-shaders.mjs regenerates src/generated/shaders.ts
// from shaders/*.wgsl (writing only on change), and every way of running the sources runs it
// first: npm test, Jest's globalSetup, and the npm scripts that run bench/ or examples/ with tsx.
// No GPU: this suite only reads and writes files.
import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'embed-shaders.mjs');

interface EmbedModule {
  renderShaders(shadersDir: string): string;
  embedShaders(options?: { root?: string; shadersDir?: string; outFile?: string }): {
    changed: boolean;
    outFile: string;
  };
}

async function loadEmbed(): Promise<EmbedModule> {
  return (await import(pathToFileURL(SCRIPT).href)) as EmbedModule;
}

describe('embedShaders on a temporary copy of shaders/', () => {
  let tmp: string;
  let outFile: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'causalmix-embed-'));
    cpSync(join(ROOT, 'shaders'), join(tmp, 'shaders'), { recursive: true });
    outFile = join(tmp, 'src', 'generated', 'shaders.ts');
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes the file, follows an edit to a .wgsl, and leaves it alone when nothing changed', async () => {
    const { embedShaders } = await loadEmbed();
    expect(embedShaders({ root: tmp })).toEqual({ changed: true, outFile });
    const first = readFileSync(outFile, 'utf8');
    expect(first).toContain('export const SHADERS');
    expect(first).toContain('"elementwise":');

    // a no-op run: changed false, text and mtime untouched
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(outFile, past, past);
    const mtime = statSync(outFile).mtimeMs;
    expect(embedShaders({ root: tmp }).changed).toBe(false);
    expect(statSync(outFile).mtimeMs).toBe(mtime);
    expect(readFileSync(outFile, 'utf8')).toBe(first);

    // editing a shader changes the generated text (and the mtime)
    const marker = '// edited by tests/shader-embed.test.ts';
    appendFileSync(join(tmp, 'shaders', 'elementwise.wgsl'), `\n${marker}\n`);
    expect(embedShaders({ root: tmp }).changed).toBe(true);
    const second = readFileSync(outFile, 'utf8');
    expect(second).not.toBe(first);
    expect(second).toContain(JSON.stringify(marker).slice(1, -1));
    expect(statSync(outFile).mtimeMs).toBeGreaterThan(mtime);

    // a new shader file appears under its name
    writeFileSync(join(tmp, 'shaders', 'zz-new.wgsl'), '// new\n');
    expect(embedShaders({ root: tmp }).changed).toBe(true);
    expect(readFileSync(outFile, 'utf8')).toContain('"zz-new": "// new\\n"');
    expect(embedShaders({ root: tmp }).changed).toBe(false);
  });

  it('runs as a script too (node scripts/embed-shaders.mjs), embedding next to itself', () => {
    mkdirSync(join(tmp, 'scripts'));
    cpSync(SCRIPT, join(tmp, 'scripts', 'embed-shaders.mjs'));
    execFileSync(process.execPath, [join(tmp, 'scripts', 'embed-shaders.mjs')], {
      stdio: 'pipe',
    });
    const first = readFileSync(outFile, 'utf8');
    appendFileSync(join(tmp, 'shaders', 'common.wgsl'), '\n// script-mode edit\n');
    execFileSync(process.execPath, [join(tmp, 'scripts', 'embed-shaders.mjs')], {
      stdio: 'pipe',
    });
    const second = readFileSync(outFile, 'utf8');
    expect(second).not.toBe(first);
    expect(second).toContain('// script-mode edit');
  });
});

describe('the repository', () => {
  it('src/generated/shaders.ts is what shaders/*.wgsl embed to now (Jest globalSetup ran)', async () => {
    const { renderShaders } = await loadEmbed();
    const generated = readFileSync(join(ROOT, 'src', 'generated', 'shaders.ts'), 'utf8');
    expect(generated).toBe(renderShaders(join(ROOT, 'shaders')));
  });

  it('every npm script that runs bench/ or examples/ with tsx embeds the shaders first', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const runsSource =
      /(?:node\s+(?:--import[= ]|--loader[= ])tsx|\btsx)\s+(?:\S+\/)?(?:bench|examples)\//;
    const embeds = /^node\s+scripts\/embed-shaders\.mjs$/;
    const checked: string[] = [];
    const late: string[] = [];
    for (const [name, command] of Object.entries(pkg.scripts)) {
      const steps = command.split(/&&|;|\|\|/).map((s) => s.trim());
      const firstSource = steps.findIndex((s) => runsSource.test(s));
      if (firstSource < 0) continue;
      checked.push(name);
      const embed = steps.findIndex((s) => embeds.test(s));
      if (embed < 0 || embed > firstSource) late.push(`${name}: ${command}`);
    }
    expect(checked.length).toBeGreaterThan(0);
    expect(checked).toEqual(expect.arrayContaining(['bench', 'demo', 'quickstart']));
    expect(late).toEqual([]);
  });

  it('Jest and scripts/test.sh embed before running anything', async () => {
    const config = (await import(pathToFileURL(join(ROOT, 'jest.config.js')).href)) as {
      default: { globalSetup?: string };
    };
    expect(config.default.globalSetup).toBe('<rootDir>/scripts/jest-global-setup.mjs');
    const setup = readFileSync(join(ROOT, 'scripts', 'jest-global-setup.mjs'), 'utf8');
    expect(setup).toMatch(/embedShaders\(\)/);
    const testSh = readFileSync(join(ROOT, 'scripts', 'test.sh'), 'utf8');
    expect(testSh).toMatch(/^node scripts\/embed-shaders\.mjs\b/m);
  });
});
