/**
 * A checksum inside model files and checkpoints, so a file that was cut short or altered is
 * refused rather than half-loaded. It covers the document's JSON text without the checksum field
 * (JSON.stringify of the parsed document gives that text back exactly). FNV-1a, 32 bits: a guard
 * against damage, not against tampering. Pure: Node and browsers alike.
 */

export const CHECKSUM_FIELD = 'checksum';

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return `fnv1a32:${(h >>> 0).toString(16).padStart(8, '0')}`;
}

/** The document with its checksum as the last field. */
export function withChecksum<T extends object>(doc: T): T & { checksum: string } {
  const body = { ...doc } as Record<string, unknown>;
  delete body[CHECKSUM_FIELD];
  return { ...(body as T), checksum: fnv1a(JSON.stringify(body)) };
}

/**
 * Throws when `doc` carries a checksum that does not match its contents. A document without one
 * (written before checksums existed) passes.
 */
export function verifyChecksum(doc: unknown, what: string): void {
  if (!doc || typeof doc !== 'object' || !(CHECKSUM_FIELD in doc)) return;
  const { [CHECKSUM_FIELD]: sum, ...body } = doc as Record<string, unknown>;
  if (fnv1a(JSON.stringify(body)) !== sum)
    throw new Error(`causalmix: ${what} is corrupt (its contents do not match its checksum)`);
}

/** JSON.parse with an error that says the file is truncated or corrupt, then the checksum check. */
export function parseCheckedJson(text: string, what: string): unknown {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `causalmix: ${what} is truncated or corrupt (not complete JSON: ${(e as Error).message})`,
    );
  }
  verifyChecksum(doc, what);
  return doc;
}
