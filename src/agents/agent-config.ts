import { plainToInstance, Transform, Type } from 'class-transformer';
import {
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
  validateSync,
} from '../core/validation/class-validator.parts.js';
import type { ValidationError } from 'class-validator';
import { describeViolations, violationsFromClassValidator } from '../core/validation/violation.js';
import { BudgetsConfig } from '../core/config/budgets-config.js';
import { ConfigValidationError } from '../core/config/config-validation.error.js';
import { parseDuration } from '../core/config/duration.js';
import { isPrototypeKey } from '../core/config/prototype-key.js';
import { IsToolApprovalSetting, type ToolApprovalSetting } from '../tools/tool-approval.setting.js';

export const AGENT_PROVIDERS = ['openai-compatible', 'openai', 'anthropic'] as const;
export type AgentProvider = (typeof AGENT_PROVIDERS)[number];

const DURATION = { message: '$property must be a duration such as "30s" or milliseconds' };

/** One entry of `config.agents`: an LLM reached through the AI SDK. */
export class AgentConfig {
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,64}$/, {
    message: '$property must be 1-64 letters, digits, "_", "-" or "."',
  })
  id!: string;

  @IsOptional()
  @IsString()
  name?: string;

  @IsOptional()
  @IsString()
  description?: string;

  @IsIn(AGENT_PROVIDERS, { message: `$property must be one of ${AGENT_PROVIDERS.join(', ')}` })
  provider!: AgentProvider;

  @IsString()
  @MinLength(1)
  model!: string;

  /** Required for `openai-compatible` (Ollama, vLLM, LM Studio, LiteLLM, Azure…). */
  @ValidateIf(
    (config: AgentConfig) =>
      config.provider === 'openai-compatible' || config.baseUrl !== undefined,
  )
  @IsString()
  @Matches(/^https?:\/\//, { message: '$property must be an http(s) URL' })
  baseUrl?: string;

  /** The name of the environment variable holding the API key; keys never sit in the file. */
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z_][A-Za-z0-9_]*$/, {
    message: '$property must be an environment variable name',
  })
  apiKeyEnv?: string;

  @IsOptional()
  @IsString()
  system?: string;

  /** The tools the model may call; absent means every registered tool. */
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  tools?: string[];

  /**
   * Which of its tool calls wait for a human decision (`tool.approve`): tool names,
   * `"destructive"`, `"all"` or `"none"`. Unset: each MCP server's own `approval`, else none.
   */
  @IsOptional()
  @IsToolApprovalSetting()
  approval?: ToolApprovalSetting;

  @IsInt()
  @Min(1)
  @Max(100)
  maxSteps = 5;

  @IsOptional()
  @IsNumber()
  @Min(0)
  @Max(2)
  temperature?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  maxOutputTokens?: number;

  /** Retries of a failed provider request by the AI SDK, with backoff. */
  @IsInt()
  @Min(0)
  @Max(10)
  maxRetries = 2;

  /** How long the provider may stay silent (no streamed part) before the turn fails. */
  @Transform(({ value }: { value: unknown }) => parseDuration(value) ?? value, {
    toClassOnly: true,
  })
  @IsInt(DURATION)
  @Min(1, DURATION)
  timeout = 60_000;

  /** Characters of conversation sent to the model; the oldest turns are dropped first. */
  @IsOptional()
  @IsInt()
  @Min(1)
  contextBudget?: number;

  /** Token budgets for this agent's turns: each kind given here replaces the global one. */
  @IsOptional()
  @ValidateNested()
  @Type(() => BudgetsConfig)
  budgets?: BudgetsConfig;
}

/**
 * Validates `config.agents`; throws ConfigValidationError naming each bad key as
 * `agents[<i>].<key>`, so that a broken agent stops boot instead of failing its first turn.
 */
export function parseAgentConfigs(raw: readonly Record<string, unknown>[]): AgentConfig[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const configs = raw.map((entry, index) => {
    // Checked before class-transformer, which skips or trips over such keys instead of naming them.
    const reserved = Object.keys(entry).filter(isPrototypeKey);
    problems.push(...reserved.map((key) => `agents[${index}].${key}: not an agent setting`));
    const config = plainToInstance(AgentConfig, omitKeys(entry, reserved), {
      exposeDefaultValues: true,
    });
    const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
    problems.push(...describe(errors, `agents[${index}]`));
    const apiKeyEnvProblem = checkApiKeyEnv(config.apiKeyEnv);
    if (apiKeyEnvProblem) problems.push(`agents[${index}].apiKeyEnv: ${apiKeyEnvProblem}`);
    if (typeof config.id === 'string') {
      if (seen.has(config.id)) problems.push(`agents[${index}].id: duplicate id "${config.id}"`);
      seen.add(config.id);
    }
    return config;
  });
  if (problems.length) throw new ConfigValidationError(problems);
  return configs;
}

function omitKeys(entry: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !keys.includes(key)));
}

/**
 * The key named by `apiKeyEnv` is sent to the agent's (configurable) baseUrl: it must never be
 * one of the gateway's own secrets, nor a name that an object lookup would find on its prototype.
 */
function checkApiKeyEnv(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  if (name.toUpperCase().startsWith('OPENCLAW_')) {
    return `must not name a gateway variable (OPENCLAW_*): its value would be sent to the agent's provider, got "${name}"`;
  }
  if (isPrototypeKey(name)) {
    return `must not be the name of an Object property, got "${name}"`;
  }
  return undefined;
}

function describe(errors: ValidationError[], prefix: string): string[] {
  // The name of a variable holding a key is not shown: it may itself be a pasted secret.
  return describeViolations(violationsFromClassValidator(errors, prefix), {
    showValue: (path) => !path.endsWith('.apiKeyEnv'),
  });
}
