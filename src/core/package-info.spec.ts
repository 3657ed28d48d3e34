import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findPackage, PACKAGE_ROOT, PACKAGE_VERSION } from './package-info.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'openclaw-package-info-'));
  made.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('package info', () => {
  it("finds the gateway's own package.json above the module, and its version", () => {
    expect(PACKAGE_ROOT).toBe(resolve(import.meta.dirname, '../..'));
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(pkg.name).toBe('openclaw-gateway');
    expect(PACKAGE_VERSION).toBe(pkg.version);
  });

  it('walks past packages of other names, at any depth (the bundle sits deeper than dist/)', () => {
    const dir = tree({
      'package.json': JSON.stringify({ name: 'openclaw-gateway', version: '1.2.3' }),
      'dist/bundle/package.json': JSON.stringify({ name: 'something-else' }),
      'dist/bundle/chunk.js': '',
    });
    expect(findPackage(join(dir, 'dist/bundle'))).toEqual({ root: dir, version: '1.2.3' });
    expect(findPackage(dir)).toEqual({ root: dir, version: '1.2.3' });
  });

  it('finds nothing, without throwing, when no folder above is ours (an app bundled the library)', () => {
    const dir = tree({
      'package.json': JSON.stringify({ name: 'host-app' }),
      'build/broken/package.json': '{ not json',
      'build/broken/main.js': '',
    });
    expect(findPackage(join(dir, 'build/broken'))).toBeUndefined();
  });
});
