import type { DestinationStream } from 'pino';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

/** pino's level number for ERROR. */
export const ERROR_LEVEL = 50;

/**
 * A pino destination that keeps every line in memory, for tests that assert what the gateway
 * logged: pass it as `{ logging: { destination: capture } }` to startGateway.
 */
export class LogCapture implements DestinationStream {
  readonly raw: string[] = [];

  write(line: string): void {
    this.raw.push(line);
  }

  get lines(): LogLine[] {
    return this.raw.map((line) => JSON.parse(line) as LogLine);
  }

  errors(): LogLine[] {
    return this.lines.filter((line) => line.level >= ERROR_LEVEL);
  }

  clear(): void {
    this.raw.length = 0;
  }
}
