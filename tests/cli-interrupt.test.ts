/**
 * Long fits survive interruption, run as a user runs them (`node --import tsx src/cli.ts fit …`):
 * Ctrl-C (SIGINT) or SIGTERM mid-training writes a checkpoint and prints the command that resumes;
 * the resumed fit ends bit for bit where an uninterrupted one does; a second signal quits at once;
 * a resume with other data or options, or from a cut-short or damaged file, is one clear error.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { panelToCsv } from '../src/cli/panel-csv.js';
import { generateSyntheticPanel } from '../src/data/synthetic.js';

const ADAPTER = process.env.CAUSALMIX_ADAPTER || 'cpu';
const childEnv: NodeJS.ProcessEnv = {
  ...process.env,
  EGL_PLATFORM: 'surfaceless',
  CAUSALMIX_ADAPTER: ADAPTER,
};
delete childEnv.NODE_OPTIONS;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI; `when(stdout)` returning a signal (or several, sent back to back in order) sends
 * it as soon as its condition first holds on stdout + stderr; `sent` counts the calls that sent.
 */
function cli(
  args: string[],
  when?: (text: string, sent: number) => NodeJS.Signals | NodeJS.Signals[] | null,
) {
  return new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: Run = { code: null, stdout: '', stderr: '' };
    let sent = 0;
    const check = () => {
      const sig = when?.(run.stdout + run.stderr, sent);
      if (sig) {
        sent++;
        for (const s of [sig].flat()) child.kill(s);
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      run.stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      run.stderr += d.toString();
      check();
    });
    child.on('close', (code) => resolve({ ...run, code }));
  });
}

let dir: string;
let csv: string;
const FIT = ['--epochs', '400', '--hidden', '8', '--warm-start', '10', '--log-every', '10'];
/** What must match between two fits: the weights and every table. */
async function results(out: string) {
  const model = JSON.parse(await readFile(join(out, 'model.json'), 'utf8'));
  const tables = await Promise.all(
    ['channels.csv', 'contributions.csv', 'dag.csv'].map((f) => readFile(join(out, f), 'utf8')),
  );
  return { weights: model.weights, tables };
}
let reference: Awaited<ReturnType<typeof results>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'causalmix-interrupt-'));
  const { panel } = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, seed: 5 });
  csv = join(dir, 'data.csv');
  await writeFile(csv, panelToCsv(panel));
  const whole = await cli(['fit', csv, ...FIT, '--out', join(dir, 'whole')]);
  expect(whole.stderr).toBe('');
  expect(whole.code).toBe(0);
  // a finished fit leaves no checkpoint behind
  expect(existsSync(join(dir, 'whole', 'checkpoint.json'))).toBe(false);
  reference = await results(join(dir, 'whole'));
}, 300_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Interrupts a fit with `sig` once training passes `epoch`; checks what it says and leaves. */
async function interrupt(sig: NodeJS.Signals, epoch: number, out: string) {
  const run = await cli(['fit', csv, ...FIT, '--out', out], (text, sent) =>
    sent === 0 && new RegExp(`^train ${epoch}/`, 'm').test(text) ? sig : null,
  );
  expect(run.code).toBe(sig === 'SIGINT' ? 130 : 143);
  const said = run.stdout.trimEnd().split('\n').pop()!;
  expect(said).toMatch(
    new RegExp(
      `^interrupted at epoch (\\d+) of 400: checkpoint saved in .*checkpoint\\.json; ` +
        `resume with: causalmix fit .* --resume `,
    ),
  );
  const at = Number(/epoch (\d+) of/.exec(said)![1]);
  expect(at).toBeGreaterThanOrEqual(epoch);
  expect(at).toBeLessThan(400);
  expect(existsSync(join(out, 'checkpoint.json'))).toBe(true);
  expect(existsSync(join(out, 'model.json'))).toBe(false);
  return { run, resume: said.replace(/^.*resume with: causalmix /, '') };
}

test('Ctrl-C mid-training: a checkpoint, the resume command; resumed, the same result bit for bit', async () => {
  const out = join(dir, 'int');
  const { run, resume } = await interrupt('SIGINT', 100, out);
  expect(run.stderr).toMatch(/Ctrl-C: stopping after this epoch to save a checkpoint/);
  // the printed command, run as printed (the paths here need no quoting)
  const resumed = await cli(resume.split(' '));
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  expect(resumed.stdout).toMatch(/^resuming from .*checkpoint\.json: epoch \d+ of 400$/m);
  expect(await results(out)).toEqual(reference);
  expect(existsSync(join(out, 'checkpoint.json'))).toBe(false);
}, 300_000);

test('SIGTERM behaves the same, with exit code 143', async () => {
  const out = join(dir, 'term');
  const { run } = await interrupt('SIGTERM', 200, out);
  expect(run.stderr).toMatch(/SIGTERM: stopping after this epoch/);
  const resumed = await cli(['fit', csv, ...FIT, '--out', out, '--resume', out]);
  expect(resumed.code).toBe(0);
  expect(await results(out)).toEqual(reference);
}, 300_000);

test('a resume with other data or options names what differs', async () => {
  const out = join(dir, 'differ');
  await interrupt('SIGINT', 50, out);
  const other = join(dir, 'other.csv');
  const { panel } = generateSyntheticPanel({ regions: 4, weeks: 60, channels: 3, seed: 6 });
  await writeFile(other, panelToCsv(panel));
  const epochs = await cli(['fit', csv, ...FIT, '--epochs', '500', '--resume', out]);
  expectOneLineError(epochs, /cannot resume from .*: epochs is 500 here, 400 in the checkpoint/);
  const data = await cli(['fit', other, ...FIT, '--resume', out]);
  expectOneLineError(data, /cannot resume from .*: the data differ/);
  const none = await cli(['fit', csv, ...FIT, '--resume', join(dir, 'whole')]);
  expectOneLineError(none, /--resume .*whole: no checkpoint\.json there \(the fit there finished/);
}, 300_000);

test('a cut-short or damaged checkpoint or model file is refused in one line', async () => {
  const out = join(dir, 'cut');
  await interrupt('SIGINT', 50, out);
  const path = join(out, 'checkpoint.json');
  const text = await readFile(path, 'utf8');
  await writeFile(path, text.slice(0, Math.floor(text.length / 2)));
  expectOneLineError(
    await cli(['fit', csv, ...FIT, '--resume', out]),
    /checkpoint '.*checkpoint\.json' is truncated or corrupt \(not complete JSON/,
  );
  // one weight changed, the JSON still whole: the checksum catches it
  const model = join(dir, 'whole', 'model.json');
  const file = JSON.parse(await readFile(model, 'utf8'));
  const name = Object.keys(file.weights)[0];
  file.weights[name] = (file.weights[name][0] === 'A' ? 'B' : 'A') + file.weights[name].slice(1);
  const damaged = join(dir, 'damaged.json');
  await writeFile(damaged, JSON.stringify(file));
  expectOneLineError(
    await cli(['optimize', damaged, '--budget', '1e6']),
    /model file '.*damaged\.json' is corrupt \(its contents do not match its checksum\)/,
  );
  const cut = join(dir, 'cut-model.json');
  const whole = await readFile(model, 'utf8');
  await writeFile(cut, whole.slice(0, whole.length - 100));
  expectOneLineError(
    await cli(['optimize', cut, '--budget', '1e6']),
    /model file '.*cut-model\.json' is truncated or corrupt/,
  );
}, 300_000);

test('a second signal quits at once, before the checkpoint of the first is written', async () => {
  // Both signals must arrive before the first one's checkpoint is written, which takes only
  // milliseconds once the epoch ends: waiting for "stopping" before sending the second is a race.
  // So the CLI is frozen (SIGSTOP), receives both, and resumes: it then handles them back to back.
  // Two different signals, because a second SIGINT pending beside the first would merge into it;
  // which of the two is handled first is the system's choice.
  const big = join(dir, 'big.csv');
  const { panel } = generateSyntheticPanel({ regions: 10, weeks: 104, channels: 3, seed: 5 });
  await writeFile(big, panelToCsv(panel));
  const out = join(dir, 'twice');
  const args = ['fit', big, '--epochs', '5000', '--hidden', '128', '--warm-start', '0'];
  const run = await cli([...args, '--log-every', '1', '--out', out], (text, sent) =>
    sent === 0 && /^train 2\//m.test(text) ? ['SIGSTOP', 'SIGINT', 'SIGTERM', 'SIGCONT'] : null,
  );
  const first = /^causalmix: (Ctrl-C|SIGTERM): stopping after this epoch/m.exec(run.stderr);
  expect(first).not.toBeNull();
  // the exit code is the second signal's
  expect(run.code).toBe(first![1] === 'Ctrl-C' ? 143 : 130);
  expect(run.stdout).not.toMatch(/interrupted at/);
  expect(run.stdout).not.toMatch(/^train 5000\//m);
  expect(existsSync(join(out, 'checkpoint.json'))).toBe(false);
}, 300_000);

function expectOneLineError(run: Run, pattern: RegExp): void {
  expect(run.code).toBe(1);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^causalmix: /);
  expect(lines[0]).toMatch(pattern);
}
