// Bundles the server entry (dist/main.js, as tsc emitted it) with Nest and the packages built on
// it into dist/main.js and dist/bundle/: on Node 20 an ES module cannot use V8's compile cache,
// and `serve` loaded about 800 of them (ours and Nest's), one resolve, read and compile each.
// Everything else stays a package import, loaded from node_modules as before (and compiled from
// the boot cache). The library (dist/index.js) is not bundled: an application embedding the
// gateway must share its own copy of Nest.
import { existsSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { build } from 'rolldown';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');
const entry = join(dist, 'main.js');
const MARKER = '/* openclaw-gateway server bundle */';

/**
 * Packages that import Nest share the bundle's copy of it (a second copy would mean a second
 * DI container's classes and tokens): Nest's own packages and every package that depends on one.
 */
function nestPackages() {
  const names = new Set();
  const modules = join(root, 'node_modules');
  const dirs = readdirSync(modules).flatMap((name) =>
    name.startsWith('@') ? readdirSync(join(modules, name)).map((sub) => `${name}/${sub}`) : [name],
  );
  for (const name of dirs) {
    const file = join(modules, name, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8'));
    const deps = { ...pkg.dependencies, ...pkg.peerDependencies };
    if (name.startsWith('@nestjs/') || deps['@nestjs/common'] || deps['@nestjs/core']) {
      names.add(name);
    }
  }
  return names;
}

if (readFileSync(entry, 'utf8').includes(MARKER)) {
  throw new Error('dist/main.js is already the bundle: run tsc (npm run build) first');
}
const bundled = [...nestPackages()].map((name) => `/node_modules/${name}/`);
const out = join(dist, '.bundle-out');
rmSync(out, { recursive: true, force: true });
await build({
  input: { main: entry },
  platform: 'node',
  plugins: [
    {
      name: 'openclaw-externals',
      async resolveId(source, importer, options) {
        if (source.startsWith('.') || source.startsWith('/') || source.startsWith('\0'))
          return null;
        if (isBuiltin(source)) return { id: source, external: true };
        const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
        // Not installed: an optional peer (@nestjs/microservices, …) that Nest imports lazily and
        // does without; the import fails at run time as it did before bundling.
        if (!resolved) return { id: source, external: true };
        // Nest's packages, and what they nest in their own node_modules, go in the bundle.
        if (bundled.some((path) => resolved.id.includes(path))) return null;
        return { id: source, external: true };
      },
    },
  ],
  output: {
    dir: out,
    format: 'esm',
    // Nest and TypeORM read class names (tokens in messages, entity and migration names).
    keepNames: true,
    // Modules run in the order they did unbundled (decorators read metadata set by imports).
    strictExecutionOrder: true,
    entryFileNames: '[name].js',
    chunkFileNames: 'bundle/[name]-[hash].js',
    banner: MARKER,
  },
});
rmSync(join(dist, 'bundle'), { recursive: true, force: true });
renameSync(join(out, 'bundle'), join(dist, 'bundle'));
renameSync(join(out, 'main.js'), entry);
rmSync(out, { recursive: true, force: true });
console.log(
  `server bundle: ${entry} and ${readdirSync(join(dist, 'bundle')).length} chunks in ${dirname(entry)}/bundle`,
);
