import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'openclaw-gateway';

/** The gateway's own package.json, as found above a folder. */
export interface FoundPackage {
  root: string;
  version: string;
}

/**
 * The gateway package above `dir`, found by walking up rather than by a fixed `../..`: the
 * modules run from `src/` under tests, from `dist/` as compiled, and from the server bundle's
 * chunks (`dist/bundle/`), each at its own depth. Undefined when no folder above is ours (an
 * application that bundled the library into its own files).
 */
export function findPackage(dir: string): FoundPackage | undefined {
  for (;;) {
    const file = join(dir, 'package.json');
    const manifest = existsSync(file) ? readManifest(file) : undefined;
    if (manifest?.name === PACKAGE_NAME) {
      const version = typeof manifest.version === 'string' ? manifest.version : 'unknown';
      return { root: dir, version };
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const found = findPackage(here);

/** The package's folder; where it cannot be found, this module's own (the dashboard says so). */
export const PACKAGE_ROOT = found?.root ?? here;

/** The gateway's version, as health, discovery, MCP and tracing report it ('unknown' unfound). */
export const PACKAGE_VERSION = found?.version ?? 'unknown';
