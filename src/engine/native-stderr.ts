/**
 * Holds back what native code writes to stderr while `fn` runs. Dawn prints its start-up notes
 * (Vulkan feature warnings, GL limit notes, with a build machine's source paths) with fprintf
 * straight to file descriptor 2, so neither process.stderr nor a Dawn toggle can catch them; this
 * points fd 2 at a temporary file for the duration and puts the original back afterwards.
 *
 * Node has no dup2, so the swap uses the lowest-free-descriptor rule of open(2): close fd 2, open
 * the temporary file (it becomes fd 2), and later close it and reopen the original through
 * /proc/self/fd (it becomes fd 2 again). That needs Linux's /proc and an original that reopens to
 * the same place: a pipe, a terminal, /dev/null, or a regular file written up to its end (reopened
 * for appending; when stdout shares it, as with `> log 2>&1`, stdout is reopened the same way so
 * the two keep taking turns at the end). Anything else (sockets, as Node's child_process gives,
 * other systems) is left alone and the notes pass through; the CLI filters those cases instead
 * (src/cli/stderr-filter.ts).
 *
 * `fs` is node:fs, passed in so this module imports nothing (browser bundles include it).
 */

/** The part of node:fs used here. */
export interface FsLike {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  unlinkSync(path: string): void;
  existsSync(path: string): boolean;
  fstatSync(fd: number): {
    isFIFO(): boolean;
    isCharacterDevice(): boolean;
    isFile(): boolean;
    dev: number;
    ino: number;
    size: number;
  };
}

export interface Captured<T> {
  value?: T;
  error?: unknown;
  /** what was written to fd 2 meanwhile ('' when nothing was, or nothing could be captured) */
  text: string;
  /** false when fd 2 could not be swapped (then everything went to stderr as usual) */
  captured: boolean;
}

const O_APPEND = 0o2000;

/** How fd 2 is put back: always for appending; `stdout` too when it shares fd 2's file. */
interface Reopen {
  stdout: boolean;
}

function reopenPlan(fs: FsLike): Reopen | null {
  if (typeof process === 'undefined' || process.platform !== 'linux') return null;
  if (!fs.existsSync('/proc/self/fdinfo/2')) return null;
  try {
    const st = fs.fstatSync(2);
    if (st.isFIFO() || st.isCharacterDevice()) return { stdout: false };
    if (!st.isFile()) return null;
    // a regular file reopened for appending goes on where it was if it was opened for appending
    // (`2>> log`) or written up to its end (`2> log`)
    const info = fs.readFileSync('/proc/self/fdinfo/2', 'utf8');
    const flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? '0', 8);
    const pos = Number(/^pos:\s*(\d+)/m.exec(info)?.[1] ?? '-1');
    if (!(flags & O_APPEND) && pos !== st.size) return null;
    const out = fs.fstatSync(1);
    return { stdout: out.isFile() && out.dev === st.dev && out.ino === st.ino };
  } catch {
    return null;
  }
}

/** Whether captureNativeStderr can hold back fd 2 here (false e.g. for a socket, or off Linux). */
export function canCaptureNativeStderr(fs: FsLike): boolean {
  if (reopenPlan(fs) === null) return false;
  try {
    fs.closeSync(fs.openSync('/proc/self/fd/2', 'a'));
    return true;
  } catch {
    return false;
  }
}

export async function captureNativeStderr<T>(
  fs: FsLike,
  tmpPath: string,
  fn: () => Promise<T>,
): Promise<Captured<T>> {
  const plan = reopenPlan(fs);
  let keep = -1;
  if (plan !== null) {
    try {
      keep = fs.openSync('/proc/self/fd/2', 'a');
    } catch {
      keep = -1; // e.g. a socket: /proc cannot reopen it
    }
  }
  if (keep < 0) return run(fn, '', false);

  fs.closeSync(2);
  let tmp: number;
  try {
    tmp = fs.openSync(tmpPath, 'w+');
  } catch {
    tmp = -1;
  }
  if (tmp !== 2) {
    // fd 2 went elsewhere (or the file could not be made): undo and run without capturing
    if (tmp >= 0) fs.closeSync(tmp);
    putBack(fs, keep, plan!);
    return run(fn, '', false);
  }
  const result = await run(fn, '', true);
  putBack(fs, keep, plan!);
  try {
    result.text = fs.readFileSync(tmpPath, 'utf8');
    fs.unlinkSync(tmpPath);
  } catch {
    // the text is a courtesy; losing it must not fail the engine
  }
  return result;
}

/** fd 2 = the original again (the lowest free descriptor is 2 once the temporary file is closed). */
function putBack(fs: FsLike, keep: number, plan: Reopen): void {
  try {
    fs.closeSync(2);
  } catch {
    // already closed
  }
  fs.openSync(`/proc/self/fd/${keep}`, 'a');
  if (plan.stdout) {
    fs.closeSync(1);
    fs.openSync('/proc/self/fd/2', 'a');
  }
  fs.closeSync(keep);
}

async function run<T>(fn: () => Promise<T>, text: string, captured: boolean): Promise<Captured<T>> {
  try {
    return { value: await fn(), text, captured };
  } catch (error) {
    return { error, text, captured };
  }
}

/**
 * A line filter over stderr text: Dawn's notes out (a line starting "Warning: " and the indented
 * or empty lines under it), everything else through `write`, chunks split anywhere.
 */
export function dawnLineFilter(write: (s: string) => void): {
  push: (chunk: string) => void;
  end: () => void;
} {
  let partial = '';
  let inBlock = false;
  const keep = (l: string): boolean => {
    if (/^Warning: /.test(l)) inBlock = true;
    else if (!(inBlock && (l.trim() === '' || /^\s/.test(l)))) inBlock = false;
    return !inBlock;
  };
  return {
    push: (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (keep(l)) write(l + '\n');
    },
    end: () => {
      if (partial !== '' && keep(partial)) write(partial);
      partial = '';
    },
  };
}

/** Captured stderr text without Dawn's notes (what else was written meanwhile is kept). */
export function withoutDawnNotes(text: string): string {
  let out = '';
  const f = dawnLineFilter((s) => (out += s));
  f.push(text);
  f.end();
  return out;
}
