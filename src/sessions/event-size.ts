import { jsonBytes } from '../core/validation/json-bytes.js';

export { jsonBytes };

/** Bytes a string adds inside JSON (escapes counted, quotes not): additive over concatenation. */
export function jsonStringBytes(text: string): number {
  return jsonBytes(text) - 2;
}

/** A prefix of `text` whose JSON string form takes at most `maxBytes`, cut at a code point. */
export function truncateToJsonBytes(text: string, maxBytes: number): string {
  let cut = text;
  for (
    let over = jsonStringBytes(cut) - maxBytes;
    over > 0;
    over = jsonStringBytes(cut) - maxBytes
  ) {
    // Escapes only make JSON longer than UTF-8: cutting `over` raw bytes removes at least `over`.
    const utf8 = Buffer.from(cut, 'utf8');
    let end = Math.max(0, utf8.length - over);
    while (end > 0 && (utf8[end] & 0xc0) === 0x80) end--;
    cut = utf8.subarray(0, end).toString('utf8');
  }
  return cut;
}
