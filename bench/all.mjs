// `npm run bench`: every benchmark in turn, each in its own process. A missed target fails the
// run, but only after the others have run too: one miss must not hide the rest of the figures.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.mjs';

const BENCHMARKS = ['http-rpc', 'ws-rpc', 'session-message', 'cluster', 'boot', 'tracing'];

const missed = BENCHMARKS.filter((name) => {
  const { status } = spawnSync(process.execPath, [join(ROOT, `bench/${name}.bench.mjs`)], {
    stdio: 'inherit',
  });
  return status !== 0;
});
if (missed.length) {
  console.log(`\ntargets missed in: ${missed.join(', ')}`);
  process.exitCode = 1;
}
