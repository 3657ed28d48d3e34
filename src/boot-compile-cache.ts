import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BootCompileCache,
  installCompileCacheHook,
  type LoaderStatics,
} from './boot-compile-cache.hook.js';

interface NodeCompileCache {
  /** Node >= 22.1. */
  enableCompileCache?: (directory?: string) => unknown;
  flushCompileCache?: () => void;
}

export type { BootCompileCache } from './boot-compile-cache.hook.js';

const OFF = new Set(['0', 'off', 'false', 'no']);

/**
 * Where the cache lives: OPENCLAW_COMPILE_CACHE names a directory, or turns it off (`off`);
 * by default a directory of this user's in the system's temporary directory, like Node's own
 * compile cache, so it outlives the working directory and HOME of any one run.
 */
export function compileCacheDirectory(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env.OPENCLAW_COMPILE_CACHE?.trim();
  if (setting && OFF.has(setting.toLowerCase())) return undefined;
  if (setting) return resolve(setting);
  const user = process.getuid?.() ?? 'user';
  return join(tmpdir(), `openclaw-gateway-compile-cache-${user}`);
}

/**
 * V8 code caches for the CommonJS modules `serve` loads (Nest, TypeORM, Fastify, rxjs: ~1,000
 * files whose compiling is a good part of a cold start). On Node >= 22.1 that is Node's own
 * `module.enableCompileCache()`; on Node 20 a hook on the CommonJS loader compiles each module
 * with the cached data of the previous boot when its source is byte for byte the same (length
 * and CRC-32, under the same Node and V8), and writes what this boot compiled once it listens.
 * The cache only ever saves work: a stale entry misses, a corrupt or foreign blob is ignored, V8
 * refuses data it did not make, and a directory that cannot be made private to this user (or at
 * all) turns the cache off. Undefined when it is off.
 */
export function enableBootCompileCache(
  env: NodeJS.ProcessEnv = process.env,
): BootCompileCache | undefined {
  const directory = compileCacheDirectory(env);
  if (!directory || !privateDirectory(directory)) return undefined;
  const loader = createRequire(import.meta.url)('node:module') as LoaderStatics & NodeCompileCache;
  if (loader.enableCompileCache) return nodeCompileCache(loader, directory);
  return installCompileCacheHook(loader, blobPath(directory));
}

function nodeCompileCache(loader: NodeCompileCache, directory: string): BootCompileCache {
  try {
    loader.enableCompileCache?.(join(directory, 'node'));
  } catch {
    // A cache that cannot be enabled is no cache, not a failed boot.
  }
  return {
    stats: () => undefined,
    persist: () => {
      try {
        loader.flushCompileCache?.();
      } catch {
        // Node writes it at exit anyway.
      }
    },
  };
}

/** True when `directory` exists (made if need be) and only this user can write to it. */
function privateDirectory(directory: string): boolean {
  try {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const stat = lstatSync(directory);
    if (!stat.isDirectory()) return false;
    // Code from the cache runs as this process: nobody else may have put it there.
    if (process.getuid && stat.uid !== process.getuid()) return false;
    return (stat.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The blob of the gateway installed here: two installs sharing a temp directory do not collide. */
function blobPath(directory: string): string {
  const install = createHash('sha256')
    .update(fileURLToPath(import.meta.url))
    .digest('hex');
  return join(directory, `boot-${process.version}-${install.slice(0, 16)}.cache`);
}
