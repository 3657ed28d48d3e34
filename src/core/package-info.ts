import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'openclaw-gateway';

/**
 * The gateway package's folder, found by walking up from this module rather than by a fixed
 * `../..`: the module runs from `src/` under tests, from `dist/` as compiled, and from the server
 * bundle's chunks (`dist/bundle/`), each at its own depth.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (
      existsSync(file) &&
      (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === PACKAGE_NAME
    ) {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new Error(`${PACKAGE_NAME}: package.json not found above ${import.meta.url}`);
    dir = parent;
  }
}

export const PACKAGE_ROOT = findPackageRoot();

/** The gateway's version, as health, discovery, MCP and tracing report it. */
export const PACKAGE_VERSION = (
  JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
