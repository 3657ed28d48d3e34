import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'openclaw-gateway';

/**
 * The gateway package's folder above `dir`, found by walking up rather than by a fixed `../..`:
 * the modules run from `src/` under tests, from `dist/` as compiled, and from the server bundle's
 * chunks (`dist/bundle/`), each at its own depth. Undefined when no folder above is ours (an
 * application that bundled the library into its own files).
 */
export function findPackageRoot(dir: string): string | undefined {
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && readName(file) === PACKAGE_NAME) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readName(file: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name;
  } catch {
    return undefined;
  }
}

const here = dirname(fileURLToPath(import.meta.url));
const root = findPackageRoot(here);

/** The package's folder; where it cannot be found, this module's own (the dashboard says so). */
export const PACKAGE_ROOT = root ?? here;

/** The gateway's version, as health, discovery, MCP and tracing report it ('unknown' unfound). */
export const PACKAGE_VERSION = root
  ? (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version
  : 'unknown';
