/**
 * Pieces shared by the CLI commands: argument parsers that reject bad numbers, JSON file reading
 * with errors that name the file, JSON output of typed arrays, and training progress (a bar on a
 * terminal, plain lines otherwise).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import cliProgress from 'cli-progress';
import type { AdapterChoice } from '../engine/device.js';
import type { TrainProgress } from '../model/trainer.js';
import { EtaClock } from './eta.js';

/** An error meant for the user: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message.startsWith('causalmix') ? message : `causalmix: ${message}`);
    this.name = 'CliError';
  }
}

/** commander argument parser: a positive integer. */
export function positiveInt(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v) || v < 1)
    throw new InvalidArgumentError('expected a positive integer.');
  return v;
}

/** commander argument parser: an integer ≥ 0. */
export function nonNegativeInt(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isInteger(v) || v < 0)
    throw new InvalidArgumentError('expected an integer ≥ 0.');
  return v;
}

/** commander argument parser: a finite number > 0. */
export function positiveNumber(value: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !(v > 0))
    throw new InvalidArgumentError('expected a number > 0.');
  return v;
}

/** commander argument parser: a comma-separated list of names. */
export function nameList(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new InvalidArgumentError('expected comma-separated column names.');
  return names;
}

const ADAPTERS: AdapterChoice[] = ['auto', 'gpu', 'software', 'cpu', 'gl', 'swiftshader', 'vulkan'];

export function adapterName(value: string): AdapterChoice {
  if (!(ADAPTERS as string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${ADAPTERS.join(', ')}.`);
  return value as AdapterChoice;
}

/** Reads and parses a JSON file; the error names the file and what went wrong. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new CliError(
      `cannot read ${what} '${path}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CliError(`${what} '${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** A JSON object (not an array or null) or a CliError naming the file. */
export function readJsonObject(path: string, what: string): Record<string, unknown> {
  const v = readJsonFile(path, what);
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new CliError(`${what} '${path}' must hold a JSON object`);
  return v as Record<string, unknown>;
}

/** JSON text with typed arrays written as arrays (NaN and ±Infinity become null, as JSON does). */
export function toJson(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) =>
      ArrayBuffer.isView(v) && !(v instanceof DataView) ? Array.from(v as Float64Array) : v,
    indent,
  );
}

/** A plain-JSON copy (typed arrays as arrays), for values stored inside another JSON document. */
export function plainJson<T>(value: T): unknown {
  return JSON.parse(toJson(value, 0)) as unknown;
}

/** The message to print for an error thrown anywhere in a command. */
export function errorLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const first = msg.split('\n')[0].trim();
  return first.startsWith('causalmix') ? first : `causalmix: ${first}`;
}

/** Training progress: a cli-progress bar on a TTY, otherwise a line per report. */
export function progressReporter(
  out: NodeJS.WriteStream,
  epochs: { warmStart: number; train: number },
): {
  onProgress: (p: TrainProgress) => void;
  stop: () => void;
} {
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format:
          ' {phase} |{bar}| {value}/{total} epochs | loss {loss} | R² (y/ȳ) {r2} | ETA {eta_formatted}',
        hideCursor: true,
        stream: out,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let phase = '';
    return {
      onProgress: (p) => {
        const payload = { phase: p.phase, loss: p.loss.toFixed(5), r2: p.r2.toFixed(3) };
        if (!started || p.phase !== phase) {
          if (started) bar.stop();
          bar.start(p.epochs, p.epoch, payload);
          started = true;
          phase = p.phase;
        } else bar.update(p.epoch, payload);
      },
      stop: () => {
        if (started) bar.stop();
      },
    };
  }
  const clock = new EtaClock(epochs.warmStart, epochs.warmStart + epochs.train);
  return {
    onProgress: (p) => {
      const eta = clock.update(p);
      out.write(
        `${p.phase} ${p.epoch}/${p.epochs}  loss ${p.loss.toFixed(5)}  R² (y/ȳ) ${p.r2.toFixed(3)}  ` +
          `${(p.elapsedMs / 1000).toFixed(1)} s` +
          (Number.isFinite(eta) ? `  ETA ${(eta / 1000).toFixed(0)} s` : '') +
          '\n',
      );
    },
    stop: () => {},
  };
}
