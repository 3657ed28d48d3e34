import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileCacheDirectory, enableBootCompileCache } from './boot-compile-cache.js';
import {
  type BootCompileCache,
  installCompileCacheHook,
  type LoaderStatics,
} from './boot-compile-cache.hook.js';

const loader = createRequire(import.meta.url)('node:module') as LoaderStatics;
const requireCache = createRequire(import.meta.url).cache;

let dir: string;
let blob: string;
const installed: BootCompileCache[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'compile-cache-spec-'));
  blob = join(dir, 'cache', 'boot.cache');
  mkdirSync(join(dir, 'cache'), { mode: 0o700 });
});
afterEach(() => {
  // Whatever a test left installed: the loader is Node's own again.
  for (const cache of installed.splice(0)) cache.persist();
  rmSync(dir, { recursive: true, force: true });
});

function install(path = blob): BootCompileCache {
  const cache = installCompileCacheHook(loader, path);
  installed.push(cache);
  return cache;
}

/** Loads `name` from the temp dir as a fresh module (out of require's cache), like a new boot. */
function load(name: string): unknown {
  for (const key of Object.keys(requireCache)) if (key.startsWith(dir)) delete requireCache[key];
  return createRequire(join(dir, 'entry.cjs'))(`./${name}`);
}

function writeModules(): void {
  writeFileSync(join(dir, 'a.cjs'), "exports.value = 'aaaa';\n");
  writeFileSync(
    join(dir, 'b.cjs'),
    [
      "const a = require('./a.cjs');",
      'function shout(text) { return text.toUpperCase(); }',
      'module.exports = { a: shout(a.value), dir: __dirname, file: __filename,',
      "  resolved: require.resolve('./a.cjs'), paths: require.resolve.paths('x').length > 0,",
      "  cached: require.cache[require.resolve('./a.cjs')] !== undefined };",
    ].join('\n'),
  );
}

describe('the boot compile cache (CommonJS loader hook)', () => {
  it('compiles a module from the previous boot when its source is unchanged, and writes nothing new', () => {
    writeModules();
    const first = install();
    const exported = load('b.cjs');
    first.persist();
    expect(first.stats()).toEqual({ hits: 0, misses: 2, rejected: 0 });
    expect(exported).toEqual({
      a: 'AAAA',
      dir,
      file: join(dir, 'b.cjs'),
      resolved: join(dir, 'a.cjs'),
      paths: true,
      cached: true,
    });
    const written = readFileSync(blob);

    const second = install();
    expect(load('b.cjs')).toEqual(exported);
    second.persist();
    expect(second.stats()).toEqual({ hits: 2, misses: 0, rejected: 0 });
    expect(readFileSync(blob).equals(written)).toBe(true);
  });

  it('misses a module whose source changed, even at the same length and mtime', () => {
    writeModules();
    const first = install();
    load('b.cjs');
    first.persist();
    const a = join(dir, 'a.cjs');
    const { atime, mtime } = statSync(a);
    writeFileSync(a, "exports.value = 'bbbb';\n");
    utimesSync(a, atime, mtime);

    const second = install();
    expect(load('b.cjs')).toMatchObject({ a: 'BBBB' });
    second.persist();
    expect(second.stats()).toEqual({ hits: 1, misses: 1, rejected: 0 });
    // The blob now has the new source: a third boot takes both from it.
    const third = install();
    load('b.cjs');
    third.persist();
    expect(third.stats()).toEqual({ hits: 2, misses: 0, rejected: 0 });
  });

  it.each([
    ['truncated', (path: string) => truncateSync(path, statSync(path).size - 100)],
    ['overwritten with garbage', (path: string) => writeFileSync(path, 'not a cache at all')],
    [
      'with entries pointing past its end',
      (path: string) => {
        const bytes = readFileSync(path);
        writeFileSync(path, bytes.subarray(0, bytes.length - 10));
      },
    ],
  ])(
    'ignores a blob %s (or its damaged entries), and replaces it with a good one',
    (_name, damage) => {
      writeModules();
      const first = install();
      load('b.cjs');
      first.persist();
      damage(blob);

      const second = install();
      expect(load('b.cjs')).toMatchObject({ a: 'AAAA' });
      second.persist();
      // What is left whole may still serve; the damaged entry does not.
      expect(second.stats()?.hits).toBeLessThan(2);
      const third = install();
      load('b.cjs');
      third.persist();
      expect(third.stats()).toEqual({ hits: 2, misses: 0, rejected: 0 });
    },
  );

  it('loads modules as usual when the blob cannot be written', () => {
    writeModules();
    const cache = install(join(dir, 'missing-dir', 'boot.cache'));
    expect(load('b.cjs')).toMatchObject({ a: 'AAAA' });
    expect(() => cache.persist()).not.toThrow();
    expect(cache.stats()).toEqual({ hits: 0, misses: 2, rejected: 0 });
  });

  it('leaves a module that calls import() to Node, uncached: no experimental warning on Node 20', async () => {
    writeFileSync(join(dir, 'esm.mjs'), 'export const answer = 42;\n');
    writeFileSync(join(dir, 'dynamic.cjs'), "module.exports = () => import('./esm.mjs');\n");
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning.message);
    process.on('warning', onWarning);
    try {
      const cache = install();
      const dynamic = load('dynamic.cjs') as () => Promise<{ answer: number }>;
      expect((await dynamic()).answer).toBe(42);
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      cache.persist();
      expect(cache.stats()).toEqual({ hits: 0, misses: 0, rejected: 0 });
      expect(warnings.filter((message) => message.includes('vm.'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it("keeps Node's behaviour: a hashbang line, dynamic import(), and Node's own syntax errors", async () => {
    writeFileSync(join(dir, 'bin.cjs'), '#!/usr/bin/env node\nmodule.exports = 42;\n');
    writeFileSync(join(dir, 'esm.mjs'), 'export const answer = 42;\n');
    writeFileSync(join(dir, 'dynamic.cjs'), "module.exports = () => import('./esm.mjs');\n");
    writeFileSync(join(dir, 'broken.cjs'), 'module.exports = {;\n');
    install();
    expect(load('bin.cjs')).toBe(42);
    const dynamic = load('dynamic.cjs') as () => Promise<{ answer: number }>;
    expect((await dynamic()).answer).toBe(42);
    expect(() => load('broken.cjs')).toThrow(SyntaxError);
  });

  it("reports a first-line error at the file's own column (minified modules keep their positions)", () => {
    const source = 'const a = 1; throw new Error("here");\n';
    writeFileSync(join(dir, 'min.cjs'), source);
    install();
    let stack = '';
    try {
      load('min.cjs');
    } catch (error) {
      stack = (error as Error).stack ?? '';
    }
    expect(stack).toContain(`${join(dir, 'min.cjs')}:1:${source.indexOf('new Error') + 1}`);
  });

  it('stops hooking the loader once persisted', () => {
    const before = loader.prototype._compile;
    const cache = install();
    expect(loader.prototype._compile).not.toBe(before);
    cache.persist();
    expect(loader.prototype._compile).toBe(before);
  });
});

describe('enableBootCompileCache', () => {
  it('is off when OPENCLAW_COMPILE_CACHE says so', () => {
    for (const off of ['off', 'OFF', '0', 'false', 'no']) {
      expect(enableBootCompileCache({ OPENCLAW_COMPILE_CACHE: off }), off).toBeUndefined();
    }
  });

  it("defaults to a directory of this user's in the temporary directory", () => {
    expect(compileCacheDirectory({})).toBe(
      join(tmpdir(), `openclaw-gateway-compile-cache-${process.getuid?.() ?? 'user'}`),
    );
  });

  it('is off when its directory can be written by others or is not a directory', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    expect(enableBootCompileCache({ OPENCLAW_COMPILE_CACHE: shared })).toBeUndefined();
    const file = join(dir, 'file');
    writeFileSync(file, '');
    expect(enableBootCompileCache({ OPENCLAW_COMPILE_CACHE: file })).toBeUndefined();
  });

  it('makes its directory private to this user', () => {
    const made = join(dir, 'made', 'here');
    const cache = enableBootCompileCache({ OPENCLAW_COMPILE_CACHE: made });
    expect(cache).toBeDefined();
    if (cache) installed.push(cache);
    expect(statSync(made).mode & 0o077).toBe(0);
  });
});
