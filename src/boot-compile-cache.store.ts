import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/** One module's code cache in the blob: whose source it was made from, and where its bytes are. */
interface CacheEntry {
  /** The source's length and CRC-32: a changed file misses, whatever its mtime says. */
  length: number;
  crc: number;
  offset: number;
  size: number;
}

/** A module compiled in this process: what the next boot's blob is made from. */
export interface CompiledModule {
  filename: string;
  length: number;
  crc: number;
  /** V8's code cache for it, taken when the blob is written (so it has what boot compiled lazily). */
  cachedData(): Buffer;
}

const MAGIC = 'openclaw-compile-cache/1\n';
/** A header larger than this is not ours (or is corrupt): the blob is ignored. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

/** What makes a code cache usable at all: V8 checks its own version and flags again. */
export function runtimeKey(): string {
  return `${process.version} ${process.arch} v8 ${process.versions.v8}`;
}

export function sourceChecksum(source: string): number {
  return crc32(source);
}

/**
 * The code caches of one boot, in one file: a header (JSON: the runtime, and per module its
 * source's length and CRC-32 and where its bytes are) followed by V8's cached data. One file, read
 * once, because boot compiles ~1,000 modules and a file each would cost as many opens. Whatever
 * is wrong with it (truncated, another runtime's, not ours) makes it an empty store, never an error.
 */
export class CompileCacheStore {
  private constructor(
    private readonly blob: Buffer,
    private readonly entries: ReadonlyMap<string, CacheEntry>,
  ) {}

  static empty(): CompileCacheStore {
    return new CompileCacheStore(Buffer.alloc(0), new Map());
  }

  /** Reads the blob at `path`; a missing, foreign or corrupt one gives an empty store. */
  static read(path: string): CompileCacheStore {
    try {
      return CompileCacheStore.parse(readFileSync(path));
    } catch {
      return CompileCacheStore.empty();
    }
  }

  static parse(blob: Buffer): CompileCacheStore {
    const magic = Buffer.byteLength(MAGIC);
    if (blob.length < magic + 4 || blob.toString('latin1', 0, magic) !== MAGIC) {
      return CompileCacheStore.empty();
    }
    const headerBytes = blob.readUInt32LE(magic);
    const dataStart = magic + 4 + headerBytes;
    if (headerBytes > MAX_HEADER_BYTES || dataStart > blob.length) return CompileCacheStore.empty();
    const header = JSON.parse(blob.toString('utf8', magic + 4, dataStart)) as {
      runtime?: unknown;
      modules?: unknown;
    };
    if (header.runtime !== runtimeKey() || !Array.isArray(header.modules)) {
      return CompileCacheStore.empty();
    }
    const entries = new Map<string, CacheEntry>();
    for (const row of header.modules as unknown[]) {
      if (!Array.isArray(row) || row.length !== 5 || typeof row[0] !== 'string') continue;
      const [filename, length, crc, offset, size] = row as [string, ...number[]];
      if (![length, crc, offset, size].every(Number.isSafeInteger)) continue;
      if (offset < 0 || size <= 0 || dataStart + offset + size > blob.length) continue;
      entries.set(filename, { length, crc, offset: dataStart + offset, size });
    }
    return new CompileCacheStore(blob, entries);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The cached data made from exactly this source, or undefined. */
  lookup(filename: string, length: number, crc: number): Buffer | undefined {
    const entry = this.entries.get(filename);
    if (!entry || entry.length !== length || entry.crc !== crc) return undefined;
    return this.blob.subarray(entry.offset, entry.offset + entry.size);
  }

  /**
   * Writes a blob of `modules` to `path`: to a temporary file first, renamed over it, so a reader
   * never sees half of one, and two processes writing at once leave one whole blob.
   */
  static write(path: string, modules: Iterable<CompiledModule>): void {
    const rows: Array<[string, number, number, number, number]> = [];
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const module of modules) {
      const data = module.cachedData();
      if (data.length === 0) continue;
      rows.push([module.filename, module.length, module.crc, offset, data.length]);
      chunks.push(data);
      offset += data.length;
    }
    const header = Buffer.from(JSON.stringify({ runtime: runtimeKey(), modules: rows }));
    const prefix = Buffer.alloc(Buffer.byteLength(MAGIC) + 4);
    prefix.write(MAGIC, 'latin1');
    prefix.writeUInt32LE(header.length, Buffer.byteLength(MAGIC));
    const temporary = `${path}.${process.pid}.tmp`;
    try {
      const fd = openSync(temporary, 'wx', 0o600);
      try {
        for (const chunk of [prefix, header, ...chunks]) writeSync(fd, chunk);
      } finally {
        closeSync(fd);
      }
      renameSync(temporary, path);
    } catch (error) {
      rmSync(temporary, { force: true });
      throw error;
    }
  }
}
