import * as nodeModule from 'node:module';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TEST_SECRET } from './support/auth-tokens.js';
import { freePort, ROOT, startNode } from './support/process.js';

// The built gateway (`npm test` builds first); OPENCLAW_TEST_DIST points at another build.
const DIST = process.env.OPENCLAW_TEST_DIST ?? join(ROOT, 'dist');
/** Node >= 22.1 uses its own compile cache, in a layout of its own: the blob checks are Node 20's. */
const OWN_HOOK = !('enableCompileCache' in nodeModule);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'openclaw-compile-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `serve` until /health answers 200 (the blob is written by then), then stops it. */
async function bootOnce(cacheSetting: string): Promise<void> {
  const port = await freePort();
  const proc = startNode(
    [join(DIST, 'main.js'), 'serve'],
    {
      OPENCLAW_PORT: String(port),
      OPENCLAW_JWT_SECRET: TEST_SECRET,
      OPENCLAW_DATABASE_URL: `sqlite:${join(dir, 'openclaw.db')}`,
      OPENCLAW_CONFIG: join(dir, 'openclaw.json'),
      OPENCLAW_LOG_LEVEL: 'warn',
      OPENCLAW_COMPILE_CACHE: cacheSetting,
    },
    dir,
  );
  writeFileSync(join(dir, 'openclaw.json'), '{}');
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`gateway exited: ${proc.stderr()}`);
      if (Date.now() > deadline)
        throw new Error(`gateway did not become healthy: ${proc.stderr()}`);
      const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
}

function blobs(cache: string): string[] {
  return readdirSync(cache).filter((name) => name.endsWith('.cache'));
}

describe('the compile cache of `serve`', () => {
  it.runIf(OWN_HOOK)(
    'is written by the first boot and read, unchanged, by the next (nothing left to compile)',
    async () => {
      const cache = join(dir, 'cache');
      await bootOnce(cache);
      const [name] = blobs(cache);
      expect(name).toMatch(/^boot-v\d+\.\d+\.\d+-[0-9a-f]{16}\.cache$/);
      const written = statSync(join(cache, name));
      // A boot that missed or had refused even one module would write the blob again (a new
      // file renamed over it).
      await bootOnce(cache);
      expect(blobs(cache)).toEqual([name]);
      expect(statSync(join(cache, name)).ino).toBe(written.ino);
    },
  );

  it.runIf(OWN_HOOK)('boots past a corrupt blob and writes a good one', async () => {
    const cache = join(dir, 'cache');
    await bootOnce(cache);
    const [name] = blobs(cache);
    const good = readFileSync(join(cache, name));
    writeFileSync(join(cache, name), good.subarray(0, good.length / 2));
    await bootOnce(cache);
    expect(readFileSync(join(cache, name)).length).toBeGreaterThan(good.length / 2);
    const rewritten = statSync(join(cache, name));
    await bootOnce(cache);
    expect(statSync(join(cache, name)).ino).toBe(rewritten.ino);
  });

  it('boots without a cache when its directory cannot be used, or when it is off', async () => {
    const notADirectory = join(dir, 'file');
    writeFileSync(notADirectory, '');
    await bootOnce(notADirectory);
    expect(readFileSync(notADirectory, 'utf8')).toBe('');
    await bootOnce('off');
    expect(existsSync(join(dir, 'off'))).toBe(false);
  });
});
