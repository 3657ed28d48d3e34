#!/usr/bin/env node
// Re-verifies an `openclaw-gateway audit export` (JSON Lines, a file or stdin) with Node's
// built-ins only, so an auditor can check it without the gateway's code:
//   node scripts/verify-audit-export.mjs export.jsonl
// Each line's hash must be SHA-256 (hex) over the canonical JSON (RFC 8785: members sorted by
// name, no whitespace) of its content plus `prev`; each line's `prev` must be the hash of the
// line before it in the same chain (a session's events, or the security log), and seqs must
// run without a gap. Exit code 0 when every chain holds, 1 otherwise.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

function canonical(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const names = Object.keys(value).sort();
  return `{${names.map((name) => `${JSON.stringify(name)}:${canonical(value[name])}`).join(',')}}`;
}

const GENESIS = '0'.repeat(64);
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');

function content(line) {
  if (line.chain === 'session') {
    const { sessionKey, seq, type, at, data, prev } = line;
    return { at, data, prev, seq, sessionKey, type };
  }
  if (line.chain === 'security') {
    const { seq, at, action, outcome, subject, target, ip, count, detail, prev } = line;
    return { action, at, count, detail, ip, outcome, prev, seq, subject, target };
  }
  throw new Error(`unknown chain "${line.chain}"`);
}

const input = process.argv[2] ? createReadStream(process.argv[2]) : process.stdin;
const chains = new Map(); // chain name -> { seq, hash } of its last line, or { broken }
let lines = 0;
let broken = 0;
for await (const text of createInterface({ input, crlfDelay: Infinity })) {
  if (!text.trim()) continue;
  lines++;
  let line;
  try {
    line = JSON.parse(text);
  } catch {
    console.log(`BROKEN  line ${lines}: not JSON`);
    broken++;
    continue;
  }
  const name = line.chain === 'session' ? `session ${line.sessionKey}` : 'security';
  const last = chains.get(name);
  if (last?.broken) continue;
  const fail = (why) => {
    console.log(`BROKEN  ${name} at seq ${line.seq}: ${why}`);
    chains.set(name, { broken: true });
    broken++;
  };
  if (!last && line.seq === 1 && line.prev !== GENESIS) {
    fail('the first link does not start from the genesis value');
    continue;
  }
  if (last && line.seq !== last.seq + 1) {
    fail(`missing seq ${last.seq + 1}`);
    continue;
  }
  if (last && line.prev !== last.hash) {
    fail(`prev ${line.prev} is not the hash of seq ${last.seq} (${last.hash})`);
    continue;
  }
  let expected;
  try {
    expected = sha256(canonical(content(line)));
  } catch (error) {
    fail(error.message);
    continue;
  }
  if (expected !== line.hash) {
    fail(`expected ${expected}, found ${line.hash}`);
    continue;
  }
  chains.set(name, { seq: line.seq, hash: line.hash });
}
console.log(
  broken === 0
    ? `Verified: ${lines} line(s) in ${chains.size} chain(s).`
    : `${broken} chain(s) broken.`,
);
process.exit(broken === 0 ? 0 : 1);
