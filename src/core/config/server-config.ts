import {
  IsArray,
  IsInt,
  IsString,
  Max,
  Min,
  MinLength,
} from '../validation/class-validator.parts.js';
import { duration, bytes, integer, DURATION, BYTES } from './config.decorators.js';

export class ServerConfig {
  @IsString()
  @MinLength(1)
  host = '127.0.0.1';

  @integer()
  @IsInt({ message: '$property must be an integer port number (0-65535)' })
  @Min(0, { message: '$property must be an integer port number (0-65535)' })
  @Max(65535, { message: '$property must be an integer port number (0-65535)' })
  port = 18789;

  /** Largest accepted HTTP body on /rpc, in bytes. */
  @bytes()
  @IsInt(BYTES)
  @Min(1024, { message: '$property must be at least 1024 bytes' })
  bodyLimit = 1024 * 1024;

  /** Largest JSON-RPC batch; a larger one is refused whole. */
  @integer()
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxBatchSize = 50;

  /** How long shutdown waits for in-flight calls. */
  @duration()
  @IsInt(DURATION)
  @Min(0, DURATION)
  shutdownTimeout = 10_000;

  /**
   * Longest a client may take to send a whole HTTP request (headers and body); a slower one gets
   * 408 and is disconnected. It ends when the request is read: replies may take longer.
   */
  @duration()
  @IsInt(DURATION)
  @Min(100, { message: '$property must be at least 100ms' })
  requestTimeout = 30_000;

  /** Longest a client may take to send an HTTP request's headers, from connecting on. */
  @duration()
  @IsInt(DURATION)
  @Min(100, { message: '$property must be at least 100ms' })
  headersTimeout = 10_000;

  /** How long an idle keep-alive connection is kept; above common proxies' 60 s idle timeout. */
  @duration()
  @IsInt(DURATION)
  @Min(1000, { message: '$property must be at least 1s' })
  keepAliveTimeout = 72_000;

  /** Peers whose X-Forwarded-For is believed: exact addresses or CIDRs. */
  @IsArray()
  @IsString({ each: true })
  trustedProxies: string[] = [];
}
