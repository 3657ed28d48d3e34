import { IsInt, Max, Min } from '../validation/class-validator.parts.js';
import { duration, bytes, integer, DURATION, BYTES } from './config.decorators.js';

export class WsConfig {
  @bytes()
  @IsInt(BYTES)
  @Min(1024, { message: '$property must be at least 1024 bytes' })
  maxPayload = 1024 * 1024;

  @duration()
  @IsInt(DURATION)
  @Min(1000, { message: '$property must be at least 1s' })
  heartbeatInterval = 30_000;

  /** A connection whose unsent data exceeds this is a slow consumer and is closed. */
  @bytes()
  @IsInt(BYTES)
  @Min(1024, { message: '$property must be at least 1024 bytes' })
  maxBufferedBytes = 4 * 1024 * 1024;

  /** Calls a connection may have in flight before the gateway stops reading its socket. */
  @integer()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxInFlight = 32;

  /**
   * Open WebSockets one token subject may hold on this instance: a dashboard tab or a client's
   * pool needs a few, and each one may buffer up to maxBufferedBytes.
   */
  @integer()
  @IsInt()
  @Min(1)
  maxConnectionsPerSubject = 32;

  /** Open WebSockets one client IP (an IPv6 /64) may hold on this instance, whoever it is. */
  @integer()
  @IsInt()
  @Min(1)
  maxConnectionsPerIp = 128;

  /** Longest an upgrade may take from its request to the 101 (token check and limits included). */
  @duration()
  @IsInt(DURATION)
  @Min(100, { message: '$property must be at least 100ms' })
  handshakeTimeout = 10_000;
}
