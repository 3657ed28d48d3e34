import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, PACKAGE_VERSION } from './package-info.js';

describe('package info', () => {
  it("finds the gateway's own package.json above the module, and its version", () => {
    expect(PACKAGE_ROOT).toBe(resolve(import.meta.dirname, '../..'));
    const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(pkg.name).toBe('openclaw-gateway');
    expect(PACKAGE_VERSION).toBe(pkg.version);
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});
