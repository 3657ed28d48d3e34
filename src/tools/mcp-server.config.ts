import { plainToInstance, Transform } from 'class-transformer';
import {
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Min,
  MinLength,
  ValidateIf,
  validateSync,
} from '../core/validation/class-validator.parts.js';
import type { ValidationError } from 'class-validator';
import { describeViolations, violationsFromClassValidator } from '../core/validation/violation.js';
import { ConfigValidationError } from '../core/config/config-validation.error.js';
import { parseDuration } from '../core/config/duration.js';
import { isPrototypeKey } from '../core/config/prototype-key.js';
import { IsToolApprovalSetting, type ToolApprovalSetting } from './tool-approval.setting.js';

const SERVER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * One entry of `config.mcpServers`: a command run over stdio (`command`, `args`, `env`) or a
 * streamable HTTP endpoint (`url`, `headers`), never both.
 */
export class McpServerConfig {
  @ValidateIf((config: McpServerConfig) => config.url === undefined)
  @IsString({ message: '$property is required (or url), a program to run over stdio' })
  @MinLength(1)
  command?: string;

  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  args?: string[];

  /** Added to the child's environment (PATH and the like are inherited). */
  @IsOptional()
  @IsObject()
  env?: Record<string, string>;

  @ValidateIf((config: McpServerConfig) => config.command === undefined || config.url !== undefined)
  @IsString()
  @Matches(/^https?:\/\//, { message: '$property must be an http(s) URL' })
  url?: string;

  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  /**
   * How often the server is pinged (default 15 s; 0 turns it off). A server that does not answer
   * is dropped and reconnected: a dead HTTP server sends no close event, and a hung stdio one
   * neither.
   */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => parseDuration(value) ?? value, {
    toClassOnly: true,
  })
  @IsInt({ message: '$property must be a duration such as "15s" or milliseconds' })
  @Min(0, { message: '$property must be a duration such as "15s" or milliseconds' })
  pingInterval?: number;

  /**
   * Which of this server's tools wait for a human decision when a turn calls them (agents that
   * set their own `approval` decide for themselves): tool names (as the server names them, or
   * `<server>.<tool>`), `"destructive"`, `"all"` or `"none"` (the default).
   */
  @IsOptional()
  @IsToolApprovalSetting()
  approval?: ToolApprovalSetting;
}

export interface NamedMcpServerConfig {
  name: string;
  config: McpServerConfig;
}

/** Validates `config.mcpServers`; throws ConfigValidationError naming `mcpServers.<name>.<key>`. */
export function parseMcpServerConfigs(
  raw: Record<string, Record<string, unknown>>,
): NamedMcpServerConfig[] {
  const problems: string[] = [];
  const servers = Object.entries(raw).map(([name, entry]) => {
    const prefix = `mcpServers.${name}`;
    if (!SERVER_NAME.test(name) || isPrototypeKey(name)) {
      problems.push(
        `${prefix}: a server name must be 1-64 letters, digits, "_" or "-", and not an Object property name`,
      );
    }
    // Prototype names as keys are refused before class-transformer, which trips over them.
    const reserved = prototypeKeyPaths(entry, prefix);
    problems.push(...reserved.map((path) => `${path}: not accepted as a key`));
    if (reserved.length) return { name, config: new McpServerConfig() };
    const config = plainToInstance(McpServerConfig, entry);
    const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
    problems.push(...describe(errors, prefix));
    if (config.command !== undefined && config.url !== undefined) {
      problems.push(`${prefix}: give either command (stdio) or url (streamable HTTP), not both`);
    }
    for (const [key, map] of [
      ['env', config.env],
      ['headers', config.headers],
    ] as const) {
      for (const [entryKey, value] of Object.entries(map ?? {})) {
        if (typeof value !== 'string')
          problems.push(`${prefix}.${key}.${entryKey}: must be a string`);
      }
    }
    return { name, config };
  });
  if (problems.length) throw new ConfigValidationError(problems);
  return servers;
}

/** Paths of keys, in an entry and in its env and headers maps, that name prototype members. */
function prototypeKeyPaths(entry: Record<string, unknown>, prefix: string): string[] {
  const paths = Object.keys(entry)
    .filter(isPrototypeKey)
    .map((key) => `${prefix}.${key}`);
  for (const map of ['env', 'headers'] as const) {
    const value = Object.hasOwn(entry, map) ? entry[map] : undefined;
    if (typeof value !== 'object' || value === null) continue;
    paths.push(
      ...Object.keys(value)
        .filter(isPrototypeKey)
        .map((key) => `${prefix}.${map}.${key}`),
    );
  }
  return paths;
}

function describe(errors: ValidationError[], prefix: string): string[] {
  // Values of env and headers may be secrets: never echoed.
  return describeViolations(violationsFromClassValidator(errors, prefix), {
    showValue: (path) => !/\.(env|headers)$/.test(path),
  });
}
