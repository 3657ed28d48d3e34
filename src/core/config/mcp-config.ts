import {
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
} from '../validation/class-validator.parts.js';
import { duration, integer, DURATION } from './config.decorators.js';

/** The MCP front door at /mcp. Sessions live on the instance that opened them. */
export class McpConfig {
  /** Open MCP sessions one subject may hold; opening one more closes its least recently used. */
  @integer()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxSessionsPerSubject = 16;

  /** Open MCP sessions on this instance; beyond it, a new session is refused with 503. */
  @integer()
  @IsInt()
  @Min(1)
  @Max(100_000)
  maxSessions = 1000;

  /** A session with no request or stream open for this long is closed (its id then gets 404). */
  @duration()
  @IsInt(DURATION)
  @Min(1000, { message: '$property must be at least 1s' })
  sessionIdleTimeout = 30 * 60_000;

  /**
   * The gateway's public base URL (`https://gateway.example.com`), named in the OAuth
   * protected-resource metadata and in 401 challenges. Unset: taken from each request's Host.
   */
  @IsOptional()
  @IsString()
  @Matches(/^https?:\/\/[^/?#\s]+(\/[^?#\s]*)?$/, {
    message: '$property must be an http(s) URL without query or fragment',
  })
  publicUrl?: string;
}
