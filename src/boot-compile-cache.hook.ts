import { dirname } from 'node:path';
import { constants as vmConstants, Script } from 'node:vm';
import {
  type CompiledModule,
  CompileCacheStore,
  sourceChecksum,
} from './boot-compile-cache.store.js';

/** The parts of Node's CommonJS loader the hook stands in for (not in @types/node). */
interface LoaderModule {
  exports: unknown;
  require(id: string): unknown;
  _compile: (this: LoaderModule, content: string, filename: string) => unknown;
}
export interface LoaderStatics {
  prototype: LoaderModule;
  wrap(source: string): string;
  _resolveFilename(
    request: string,
    parent: LoaderModule,
    isMain: boolean,
    options?: unknown,
  ): string;
  _resolveLookupPaths(request: string, parent: LoaderModule): string[] | null;
  _extensions: unknown;
  _cache: unknown;
}

/** What one boot did with the cache: modules compiled from it, without it, and refused by V8. */
export interface CompileCacheStats {
  hits: number;
  misses: number;
  rejected: number;
}

export interface BootCompileCache {
  /** Undefined when Node's own compile cache does the work (it keeps no such counts). */
  stats(): CompileCacheStats | undefined;
  /**
   * Once booted: stops caching (what loads later compiles as usual) and, when this boot compiled
   * anything the cache did not have, writes the blob for the next one. Never throws. Call it
   * before V8's flags change (boot-heap.ts's release): V8 refuses cached data made under other
   * flags, so a blob written after the release would be refused by every boot.
   */
  persist(): void;
}

/**
 * Compiles every CommonJS module through `vm.Script` with the cached data of `blobPath` when its
 * source is the one the data was made from, as Node's own `Module.prototype._compile` would
 * otherwise compile it (same wrapper, `require`, `module`, `exports`, `__filename`, `__dirname`,
 * dynamic `import()` by the default loader).
 */
export function installCompileCacheHook(loader: LoaderStatics, blobPath: string): BootCompileCache {
  let store = CompileCacheStore.read(blobPath);
  const stats: CompileCacheStats = { hits: 0, misses: 0, rejected: 0 };
  let compiled: CompiledModule[] = [];
  const original = loader.prototype._compile;
  // How far the wrapper shifts a module's first line.
  const prefix = loader.wrap('\0').indexOf('\0');

  function compileCached(this: LoaderModule, content: string, filename: string): unknown {
    if (typeof content !== 'string' || mayImportDynamically(content)) {
      return original.call(this, content, filename);
    }
    const length = content.length;
    const crc = sourceChecksum(content);
    const cachedData = store.lookup(filename, length, crc);
    let script: Script;
    try {
      script = new Script(loader.wrap(withoutHashbang(content)), {
        filename,
        // Columns on the first line as in the file, not shifted by the wrapper (minified files).
        columnOffset: -prefix,
        cachedData,
        importModuleDynamically: vmConstants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
      });
    } catch {
      // A syntax error is reported by Node's own compile, with its hints.
      return original.call(this, content, filename);
    }
    if (!cachedData) stats.misses++;
    else if (script.cachedDataRejected) stats.rejected++;
    else stats.hits++;
    // Taken when the blob is written, so that it holds what boot compiled lazily too.
    compiled.push({ filename, length, crc, cachedData: () => script.createCachedData() });
    const wrapper = script.runInThisContext({ displayErrors: true }) as (
      ...args: unknown[]
    ) => unknown;
    return wrapper.call(
      this.exports,
      this.exports,
      requireFor(loader, this),
      this,
      filename,
      dirname(filename),
    );
  }

  loader.prototype._compile = compileCached;
  return {
    stats: () => ({ ...stats }),
    persist() {
      if (loader.prototype._compile === compileCached) loader.prototype._compile = original;
      const modules = compiled;
      compiled = [];
      store = CompileCacheStore.empty();
      if (stats.misses === 0 && stats.rejected === 0) return;
      try {
        CompileCacheStore.write(blobPath, modules);
      } catch {
        // An unwritable cache costs the next boot its compile, nothing else.
      }
    },
  };
}

/**
 * A module that may call `import()` is left to Node's own compile, uncached: on Node 20 a
 * `vm.Script` can only hand `import()` to the default loader through an experimental constant,
 * whose first use prints an ExperimentalWarning on every gateway that meets such a module. A few
 * modules at most (four of TypeORM's and rxjs's 1,233 files), and a false match only costs one
 * module its cache.
 */
function mayImportDynamically(source: string): boolean {
  return source.includes('import') && /\bimport\s*\(/.test(source);
}

/** V8 accepts `#!` only at the very start of a script, and the module wrapper comes first. */
function withoutHashbang(source: string): string {
  if (!source.startsWith('#!')) return source;
  const end = source.indexOf('\n');
  return end === -1 ? '' : source.slice(end);
}

/** The `require` Node gives a module: resolved from it, with resolve, resolve.paths, main and cache. */
function requireFor(loader: LoaderStatics, module: LoaderModule): NodeJS.Require {
  const require = ((id: string) => module.require(id)) as NodeJS.Require;
  const resolveFrom = ((request: string, options?: unknown) =>
    loader._resolveFilename(request, module, false, options)) as NodeJS.RequireResolve;
  resolveFrom.paths = (request: string) => loader._resolveLookupPaths(request, module);
  require.resolve = resolveFrom;
  require.main = process.mainModule;
  Object.assign(require, { extensions: loader._extensions, cache: loader._cache });
  return require;
}
