/** Float32 arrays as base64 text (model files and checkpoints are JSON; Node and browsers). */
export function encodeF32(a: ArrayLike<number>): string {
  return bytesToBase64(new Uint8Array(Float32Array.from(a).buffer));
}

export function decodeF32(text: string): Float32Array {
  const bytes = base64ToBytes(text);
  if (bytes.length % 4 !== 0)
    throw new Error('causalmix: float32 data of a length not a multiple of 4');
  return new Float32Array(bytes.buffer);
}

function bytesToBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function base64ToBytes(text: string): Uint8Array {
  const s = atob(text);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

/** Float64 arrays as base64 text (checkpoints of the CPU backend, which trains in float64). */
export function encodeF64(a: ArrayLike<number>): string {
  return bytesToBase64(new Uint8Array(Float64Array.from(a).buffer));
}

export function decodeF64(text: string): Float64Array {
  const bytes = base64ToBytes(text);
  if (bytes.length % 8 !== 0)
    throw new Error('causalmix: float64 data of a length not a multiple of 8');
  return new Float64Array(bytes.buffer);
}
