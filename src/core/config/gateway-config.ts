import { Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
  ValidateNested,
  type ValidationArguments,
} from 'class-validator';
import { BudgetsConfig, UsageConfig } from './budgets-config.js';
import { jwksUrlProblem, type JwksSettings } from './jwks-url.policy.js';
import { parseByteSize, parseDuration } from './duration.js';

// The schema of openclaw.json and OPENCLAW_* after merging. Every leaf has a default, so the
// validated object is complete and the rest of the code never checks for missing settings.

const duration = () =>
  Transform(({ value }: { value: unknown }) => parseDuration(value) ?? value, {
    toClassOnly: true,
  });
const bytes = () =>
  Transform(({ value }: { value: unknown }) => parseByteSize(value) ?? value, {
    toClassOnly: true,
  });
const integer = () =>
  Transform(
    ({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value,
    { toClassOnly: true },
  );
const boolean = () =>
  Transform(
    ({ value }: { value: unknown }) =>
      value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value,
    { toClassOnly: true },
  );
const DURATION = { message: '$property must be a duration such as "60s", "1h" or milliseconds' };
const BYTES = { message: '$property must be a byte size such as 1048576 or "1mb"' };

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

export class DatabaseConfig {
  @IsString()
  @Matches(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, {
    message: '$property must start with sqlite:, postgres:// or postgresql://',
  })
  url = 'sqlite:./data/openclaw.db';

  @boolean()
  @IsBoolean()
  migrationsRun = true;
}

export class RedisConfig {
  @IsOptional()
  @IsString()
  @Matches(/^rediss?:\/\//, { message: '$property must be a redis:// or rediss:// URL' })
  url?: string;
}

/** jwksUrl's cross-field rule (jwksUrlProblem): https, issuer and audience, checked at boot. */
const trustedJwks = () =>
  ValidateBy({
    name: 'trustedJwks',
    validator: {
      validate: (_value: unknown, args?: ValidationArguments) =>
        jwksUrlProblem(args?.object as JwksSettings) === undefined,
      defaultMessage: (args?: ValidationArguments) =>
        `$property ${jwksUrlProblem(args?.object as JwksSettings) ?? 'is invalid'}`,
    },
  });

/** Role -> scopes, read with own-property lookups: every value must be a list of scopes. */
const roleScopeMap = () =>
  ValidateBy({
    name: 'roleScopeMap',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        Object.values(value).every(
          (scopes) => Array.isArray(scopes) && scopes.every((s) => typeof s === 'string'),
        ),
      defaultMessage: () => '$property must map each role to an array of scope strings',
    },
  });

export class JwtConfig {
  @IsOptional()
  @IsString()
  @MinLength(32, { message: '$property must be at least 32 bytes' })
  secret?: string;

  @IsOptional()
  @IsString()
  issuer?: string;

  @IsOptional()
  @IsString()
  audience?: string;

  @IsOptional()
  @IsString()
  @trustedJwks()
  jwksUrl?: string;

  /** The claim that carries scopes: `scope` (space-separated), `scp` or a roles claim. */
  @IsString()
  scopeClaim = 'scope';

  /** Maps identity-provider roles or groups to gateway scopes, when scopeClaim holds roles. */
  @IsObject()
  @roleScopeMap()
  roleScopes: Record<string, string[]> = {};

  @duration()
  @IsInt(DURATION)
  @Min(1000, { message: '$property must be at least 1s' })
  accessTokenTtl = 3_600_000;

  @duration()
  @IsInt(DURATION)
  @Min(0, DURATION)
  refreshTokenTtl = 30 * 86_400_000;

  /** Absolute lifetime of a refresh-token family: rotation never extends a grant beyond it. */
  @duration()
  @IsInt(DURATION)
  @Min(1000, { message: '$property must be at least 1s' })
  refreshFamilyTtl = 90 * 86_400_000;

  @duration()
  @IsInt(DURATION)
  @Min(0, DURATION)
  @Max(300_000, { message: '$property must be at most 5m' })
  clockTolerance = 5_000;
}

export class AuthConfig {
  @ValidateNested()
  @Type(() => JwtConfig)
  jwt: JwtConfig = new JwtConfig();

  /** Key for secrets at rest (environment only: OPENCLAW_ENCRYPTION_KEY). */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: '$property must be at least 32 bytes' })
  encryptionKey?: string;
}

export class LimitConfig {
  @integer()
  @IsInt()
  @Min(1)
  limit: number;

  @duration()
  @IsInt(DURATION)
  @Min(1, DURATION)
  ttl: number;

  static of(limit: number, ttl: number): LimitConfig {
    return Object.assign(new LimitConfig(), { limit, ttl });
  }
}

export class RateLimitConfig {
  @ValidateNested()
  @Type(() => LimitConfig)
  client: LimitConfig = LimitConfig.of(60, 60_000);

  @ValidateNested()
  @Type(() => LimitConfig)
  session: LimitConfig = LimitConfig.of(30, 60_000);

  /** Failed authentications per client IP (HTTP and WS upgrades); beyond it they get 429. */
  @ValidateNested()
  @Type(() => LimitConfig)
  authFailures: LimitConfig = LimitConfig.of(30, 60_000);

  /** What happens to calls while the shared store (Redis) is unreachable. */
  @IsIn(['open', 'closed'])
  onStoreFailure: 'open' | 'closed' = 'closed';
}

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

export class ToolsConfig {
  @duration()
  @IsInt(DURATION)
  @Min(1, DURATION)
  timeout = 30_000;
}

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

/** Human approval of tool calls made by turns (agents' and MCP servers' `approval`). */
export class ApprovalsConfig {
  /** How long a guarded call waits for a decision; then it is denied. */
  @duration()
  @IsInt(DURATION)
  @Min(1, DURATION)
  timeout = 5 * 60_000;

  /** Whether a session's owner may decide its own session's calls (default: four eyes). */
  @boolean()
  @IsBoolean()
  ownerMayApprove = false;
}

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

export class GatewayConfig {
  @ValidateNested()
  @Type(() => ServerConfig)
  gateway: ServerConfig = new ServerConfig();

  @ValidateNested()
  @Type(() => WsConfig)
  ws: WsConfig = new WsConfig();

  @ValidateNested()
  @Type(() => DatabaseConfig)
  database: DatabaseConfig = new DatabaseConfig();

  @ValidateNested()
  @Type(() => RedisConfig)
  redis: RedisConfig = new RedisConfig();

  @ValidateNested()
  @Type(() => AuthConfig)
  auth: AuthConfig = new AuthConfig();

  @ValidateNested()
  @Type(() => RateLimitConfig)
  rateLimit: RateLimitConfig = new RateLimitConfig();

  @ValidateNested()
  @Type(() => SessionsConfig)
  sessions: SessionsConfig = new SessionsConfig();

  @ValidateNested()
  @Type(() => ToolsConfig)
  tools: ToolsConfig = new ToolsConfig();

  @ValidateNested()
  @Type(() => McpConfig)
  mcp: McpConfig = new McpConfig();

  @ValidateNested()
  @Type(() => LogConfig)
  log: LogConfig = new LogConfig();

  @ValidateNested()
  @Type(() => ApprovalsConfig)
  approvals: ApprovalsConfig = new ApprovalsConfig();
  /** Token budgets (per session, per subject and window); an agent entry may override them. */
  @ValidateNested()
  @Type(() => BudgetsConfig)
  budgets: BudgetsConfig = new BudgetsConfig();

  @ValidateNested()
  @Type(() => UsageConfig)
  usage: UsageConfig = new UsageConfig();

  /** Agents beyond the built-in echo agent (validated by the agents module). */
  @IsArray()
  @IsObject({ each: true })
  agents: Record<string, unknown>[] = [];

  /** MCP servers whose tools join the registry (validated by the tools module). */
  @IsObject()
  mcpServers: Record<string, Record<string, unknown>> = {};

  @IsOptional()
  @IsString()
  @MaxLength(200)
  instanceId?: string;
}
