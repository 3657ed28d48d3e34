import { IsIn } from '../validation/class-validator.parts.js';

export class LogConfig {
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent' = 'info';

  /**
   * Access records, one line per HTTP request at info: `all`, only refused or failed requests
   * (`errors`, status >= 400), or `off`. Health probes are never recorded.
   */
  @IsIn(['all', 'errors', 'off'])
  access: 'all' | 'errors' | 'off' = 'all';
}
