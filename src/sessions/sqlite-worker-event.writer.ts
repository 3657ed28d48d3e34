import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

import type { EventLogWriter, Outcome, WriteRequest } from './event-write.types.js';
import { sqliteError, toOutcome, toSqliteCall } from './sqlite-event.writer.js';
import {
  sqliteWriteProgram,
  type SqliteCallOutcome,
  type SqliteWriteCall,
} from './sqlite-write.program.js';

/** What the writer thread needs to open the database as the gateway's own connection is. */
export interface SqliteWorkerOptions {
  file: string;
  synchronous: number;
  busyTimeoutMs: number;
  foreignKeys: boolean;
}

interface Reply {
  id: number;
  outcomes?: SqliteCallOutcome[];
  error?: { message: string; code?: string };
}

interface InFlight {
  resolve: (outcomes: SqliteCallOutcome[]) => void;
  reject: (error: unknown) => void;
}

/**
 * The writer thread: its own connection to the database file, running the append program on the
 * batches it is posted. Plain CommonJS text (a worker cannot load the TypeScript sources under
 * test), with the program's own source spliced in.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const { file, synchronous, busyTimeoutMs, foreignKeys } = workerData.options;
const db = new Database(file, { timeout: busyTimeoutMs });
db.pragma('synchronous = ' + synchronous);
db.pragma('busy_timeout = ' + busyTimeoutMs);
db.pragma('foreign_keys = ' + (foreignKeys ? 'ON' : 'OFF'));
const { createHash } = require('node:crypto');
const sha256 = (text) => createHash('sha256').update(text, 'utf8').digest('hex');
const run = (${sqliteWriteProgram.toString()})(db, sha256);
parentPort.on('message', (message) => {
  if (message.close) {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const outcomes = run(message.calls, message.at);
    for (const outcome of outcomes) delete outcome.error;
    parentPort.postMessage({ id: message.id, outcomes });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

/**
 * SQLite writes in a thread of their own, for a database file: the commit's fsync no longer
 * blocks the event loop, which meanwhile parses the next requests and gathers the next batch.
 * The gateway's connection keeps reading; WAL shows it every committed write, and a call
 * resolves only once the writer thread reports its batch committed.
 */
export class SqliteWorkerEventWriter implements EventLogWriter {
  readonly lanes = 1;
  private worker?: Worker;
  private readonly inFlight = new Map<number, InFlight>();
  private nextId = 1;

  constructor(private readonly options: SqliteWorkerOptions) {}

  async commit(requests: readonly WriteRequest[]): Promise<Outcome[]> {
    const at = new Date().toISOString();
    const outcomes = await this.post(requests.map(toSqliteCall), at);
    return requests.map((request, i) => toOutcome(request, outcomes[i], at));
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ close: true });
    await exited;
  }

  private post(calls: SqliteWriteCall[], at: string): Promise<SqliteCallOutcome[]> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      // Keeps the process alive only while a batch is in flight.
      if (this.inFlight.size === 1) worker.ref();
      worker.postMessage({ id, calls, at });
    });
  }

  private start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, options: this.options },
    });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const call = this.inFlight.get(reply.id);
      if (!call) return;
      this.inFlight.delete(reply.id);
      if (this.inFlight.size === 0) worker.unref();
      if (reply.outcomes) call.resolve(reply.outcomes);
      else call.reject(sqliteError(reply.error?.message ?? 'writer failed', reply.error?.code));
    });
    const fail = (error: unknown): void => {
      // Whether the batches in flight committed is unknown: they fail, never acknowledged.
      if (this.worker === worker) this.worker = undefined;
      for (const call of this.inFlight.values()) call.reject(error);
      this.inFlight.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.inFlight.size > 0) fail(new Error(`SQLite writer thread exited (${code})`));
      if (this.worker === worker) this.worker = undefined;
    });
    return worker;
  }
}
