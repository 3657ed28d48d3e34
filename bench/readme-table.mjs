// Rewrites the README's benchmark table from bench/results/*.json (written by `npm run bench`),
// between the markers <!-- bench:start --> and <!-- bench:end -->, with the machine it ran on.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';
import { ROOT } from './support.mjs';

const dir = join(ROOT, 'bench/results');
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.json'))
  .sort();
const format = (value) =>
  typeof value === 'number'
    ? value.toLocaleString('en-US', { maximumFractionDigits: value < 10 ? 2 : 0 })
    : String(value ?? '');

const lines = [
  '| benchmark | floor | gateway | gateway / floor | target |',
  '|---|---:|---:|---:|---|',
];
const machines = new Set();
for (const file of files) {
  const { machine, at, results } = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  machines.add(`${machine.cpus} × ${machine.model}, Node ${machine.node} (${at.slice(0, 10)})`);
  // Growth and latency rows compare a run with itself: they are checked by the benchmark, and
  // said in the text below the table, not set against a floor here.
  for (const row of results.filter((result) => !/grow|p99/.test(result.name))) {
    const verdict = row.pass === null ? '' : row.pass ? ' ✓' : ' ✗ missed';
    lines.push(
      `| ${row.name} | ${format(row.floor)} ${row.unit} | ${format(row.gateway)} ${row.unit} | ${format(row.ratio)} | ${row.target ?? ''}${verdict} |`,
    );
  }
}
lines.push('', `Measured on ${[...machines].join('; ')}.`);

const readme = join(ROOT, 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- bench:start -->';
const end = '<!-- bench:end -->';
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`README.md has no ${start} … ${end} block`);
const updated = `${text.slice(0, from + start.length)}\n${lines.join('\n')}\n${text.slice(to)}`;
// Written as Prettier would, so `npm run lint` stays green after a regeneration.
const options = (await prettier.resolveConfig(readme)) ?? {};
writeFileSync(readme, await prettier.format(updated, { ...options, filepath: readme }));
console.log(`README.md: ${lines.length - 3} rows from ${files.length} result files`);
