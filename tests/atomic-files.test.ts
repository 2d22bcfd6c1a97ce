/**
 * Files written whole or not at all (src/data/atomic-write.ts), and the checksum that makes a
 * model file or checkpoint cut short or altered a clear error (src/model/file-checksum.ts).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/data/atomic-write.js';
import { parseCheckedJson, verifyChecksum, withChecksum } from '../src/model/file-checksum.js';
import { readCheckpoint } from '../src/model/checkpoint-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'causalmix-atomic-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('an atomic write replaces the file whole and leaves no temporary file', async () => {
  const path = join(dir, 'a.json');
  writeFileAtomic(path, 'first');
  writeFileAtomic(path, 'second, longer');
  expect(await readFile(path, 'utf8')).toBe('second, longer');
  expect(await readdir(dir)).toEqual(['a.json']);
});

test('a failed atomic write throws and leaves the old file as it was', async () => {
  const path = join(dir, 'b.txt');
  writeFileAtomic(path, 'kept');
  // a folder where the file should be renamed to: the rename fails after the data was written
  const blocked = join(dir, 'folder');
  await mkdir(join(blocked, 'inside'), { recursive: true });
  expect(() => writeFileAtomic(blocked, 'lost')).toThrow();
  expect(await readFile(path, 'utf8')).toBe('kept');
  expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
});

test('the checksum survives a JSON round trip and catches any change', () => {
  const doc = withChecksum({
    a: 1.1,
    b: [0.1, -0, NaN, 1e-300],
    t: new Float64Array([1, 2]),
    s: 'é"\\',
    n: { x: null, y: undefined },
  });
  const text = JSON.stringify(doc);
  expect(() => parseCheckedJson(text, 'test file')).not.toThrow();
  expect(() => parseCheckedJson(text.replace('1.1', '1.2'), 'test file')).toThrow(
    /test file is corrupt \(its contents do not match its checksum\)/,
  );
  expect(() => parseCheckedJson(text.slice(0, -5), 'test file')).toThrow(
    /test file is truncated or corrupt \(not complete JSON/,
  );
  // a document from before checksums existed passes
  expect(() => verifyChecksum({ a: 1 }, 'old file')).not.toThrow();
});

test('readCheckpoint refuses a cut-short file and a foreign one', async () => {
  const path = join(dir, 'c.json');
  await writeFile(path, '{"format":"causalmix-checkpoint","version":1,"epo');
  expect(() => readCheckpoint(path)).toThrow(/checkpoint '.*c\.json' is truncated or corrupt/);
  await writeFile(path, '{"format":"other"}');
  expect(() => readCheckpoint(path)).toThrow(/is not a causalmix checkpoint/);
  expect(readCheckpoint(join(dir, 'none.json'))).toBeUndefined();
});
