import { Type } from 'class-transformer';
import {
  IsArray,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from '../validation/class-validator.parts.js';
import { BudgetsConfig, UsageConfig } from './budgets-config.js';
import { ServerConfig } from './server-config.js';
import { WsConfig } from './ws-config.js';
import { DatabaseConfig } from './database-config.js';
import { RedisConfig } from './redis-config.js';
import { AuthConfig } from './auth-config.js';
import { RateLimitConfig } from './rate-limit-config.js';
import { SessionsConfig } from './sessions-config.js';
import { ToolsConfig } from './tools-config.js';
import { McpConfig } from './mcp-config.js';
import { ApprovalsConfig } from './approvals-config.js';
import { LogConfig } from './log-config.js';

// Each section's class lives in its own file; they are re-exported here, where they were first.
export { ServerConfig } from './server-config.js';
export { WsConfig } from './ws-config.js';
export { DatabaseConfig } from './database-config.js';
export { RedisConfig } from './redis-config.js';
export { JwtConfig } from './jwt-config.js';
export { AuthConfig } from './auth-config.js';
export { LimitConfig } from './limit-config.js';
export { RateLimitConfig } from './rate-limit-config.js';
export { SessionsConfig } from './sessions-config.js';
export { ToolsConfig } from './tools-config.js';
export { McpConfig } from './mcp-config.js';
export { ApprovalsConfig } from './approvals-config.js';
export { LogConfig } from './log-config.js';

// The schema of openclaw.json and OPENCLAW_* after merging. Every leaf has a default, so the
// validated object is complete and the rest of the code never checks for missing settings.

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
