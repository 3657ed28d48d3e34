/**
 * Canonical JSON (RFC 8785, the JSON Canonicalization Scheme, for the values the gateway stores):
 * object members sorted by their names' UTF-16 code units, no whitespace, strings and numbers
 * written as JSON.stringify writes them. Two parties holding the same value get the same bytes,
 * which is what a hash chain over stored JSON needs. Values JSON.stringify would drop (undefined,
 * functions, symbols) are dropped from objects and become null in arrays, as JSON.stringify does.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value);
  return out === undefined ? 'null' : out;
}

function write(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError('canonicalJson: a BigInt has no JSON form');
    case 'object':
      break;
    default:
      return undefined;
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === 'function') return write(withJson.toJSON());
  if (Array.isArray(value)) {
    return `[${value.map((item) => write(item) ?? 'null').join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const name of Object.keys(record).sort()) {
    const member = write(record[name]);
    if (member !== undefined) members.push(`${JSON.stringify(name)}:${member}`);
  }
  return `{${members.join(',')}}`;
}
