/** Bytes of a value as JSON text, UTF-8: what it costs in the log, in a page and on the wire. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
