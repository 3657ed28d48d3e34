import { IsInt, Max, Min } from '../validation/class-validator.parts.js';
import { duration, bytes, integer, DURATION, BYTES } from './config.decorators.js';

export class SessionsConfig {
  /** Turns that may wait behind the running one in a session; more get -32009. */
  @integer()
  @IsInt()
  @Min(0)
  @Max(1000)
  queueSize = 8;

  /** Longest accepted message content, in characters. */
  @integer()
  @IsInt()
  @Min(1)
  maxContentLength = 32_768;

  /**
   * Largest stored event (its JSON data: tool arguments, tool results, agent output): one
   * client must not fill the log, and every page later read from it, with huge events.
   */
  @bytes()
  @IsInt(BYTES)
  @Min(1024, { message: '$property must be at least 1024 bytes' })
  maxEventBytes = 256 * 1024;

  /**
   * Largest `session.history` page (and idempotent replay read), in bytes of event data: a
   * page stops before the event that would cross it, and always holds at least one event.
   */
  @bytes()
  @IsInt(BYTES)
  @Min(1024, { message: '$property must be at least 1024 bytes' })
  maxPageBytes = 1024 * 1024;

  /**
   * Several instances (PostgreSQL): how long a turn's lease lasts without renewal. A crashed
   * instance's session is taken over this long after its last renewal; renewals come every third.
   */
  @duration()
  @IsInt(DURATION)
  @Min(300, { message: '$property must be at least 300ms' })
  leaseTtl = 15_000;

  /**
   * Several instances: how long a message waits while another instance runs the session's turn
   * (and an idempotent retry waits for that turn's answer) before -32009.
   */
  @duration()
  @IsInt(DURATION)
  @Min(0, DURATION)
  turnWaitTimeout = 120_000;
}
