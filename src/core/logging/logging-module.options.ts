import type { DestinationStream } from 'pino';

export interface LoggingModuleOptions {
  /**
   * Where log lines go (default: stdout). A host with its own log pipeline, or a test that
   * reads what was logged, passes a pino destination.
   */
  destination?: DestinationStream;
}

export const LOGGING_MODULE_OPTIONS = Symbol('openclaw:logging-module-options');
