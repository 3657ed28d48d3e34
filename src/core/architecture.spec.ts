import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '..');
const CORE = join(SRC, 'core');

/** Every non-spec TypeScript file under a folder. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Relative imports of a file, resolved to paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
    relative(SRC, resolve(join(file, '..'), match[1])),
  );
}

const folderOf = (path: string) => path.split('/')[1];

describe('the architecture of src/core', () => {
  const files = sources(CORE);

  it('never imports a feature (agents, sessions, tools, the fronts, the dashboard)', () => {
    const offending = files.flatMap((file) =>
      importsOf(file)
        .filter((target) => !target.startsWith('core/'))
        .map((target) => `${relative(SRC, file)} -> ${target}`),
    );
    expect(offending).toEqual([]);
  });

  it('has no import cycle between its folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const file of files) {
      const from = folderOf(relative(SRC, file));
      for (const target of importsOf(file)) {
        const to = folderOf(target);
        if (!target.startsWith('core/') || to === from || to.endsWith('.ts')) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    const cycles: string[] = [];
    const visit = (node: string, path: string[]): void => {
      if (path.includes(node)) {
        cycles.push([...path.slice(path.indexOf(node)), node].join(' -> '));
        return;
      }
      for (const next of edges.get(node) ?? []) visit(next, [...path, node]);
    };
    for (const node of edges.keys()) visit(node, []);
    expect(cycles).toEqual([]);
    // The layering the pipeline relies on: transports and guards build on rpc, never the reverse.
    expect([...(edges.get('rpc') ?? [])].sort()).not.toContain('auth');
    expect([...(edges.get('rpc') ?? [])].sort()).not.toContain('ws');
  });

  it('reaches other modules through injection, not ModuleRef look-ups', () => {
    const lookups = files.filter((file) => /\bModuleRef\b/.test(readFileSync(file, 'utf8')));
    expect(lookups.map((file) => relative(SRC, file))).toEqual([]);
  });
});
