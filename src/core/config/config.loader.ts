import { plainToInstance } from 'class-transformer';
import { validateSync } from '../validation/class-validator.parts.js';
import type { ValidationError } from 'class-validator';
import { describeViolations, violationsFromClassValidator } from '../validation/violation.js';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isPrototypeKey } from './prototype-key.js';
import { ConfigValidationError } from './config-validation.error.js';
import { GatewayConfig } from './gateway-config.js';

/** A deep partial of the config, as written in openclaw.json or passed by an embedder. */
export type GatewayConfigInput = {
  [K in keyof GatewayConfig]?: GatewayConfig[K] extends (infer U)[]
    ? U[]
    : GatewayConfig[K] extends object
      ? { [P in keyof GatewayConfig[K]]?: unknown }
      : GatewayConfig[K];
};

export interface LoadConfigOptions {
  /** Environment to read OPENCLAW_* from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Directory that holds ./openclaw.json; defaults to the working directory. */
  cwd?: string;
  /** Settings from code (GatewayModule.forRoot, GatewayBuilder): above the file, below env. */
  overrides?: GatewayConfigInput;
  /** Read no openclaw.json even if present (embedders that configure only in code). */
  ignoreFile?: boolean;
}

/** Environment variables and the config path each one sets. */
export const ENV_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['OPENCLAW_HOST', 'gateway.host'],
  ['OPENCLAW_PORT', 'gateway.port'],
  ['OPENCLAW_BODY_LIMIT', 'gateway.bodyLimit'],
  ['OPENCLAW_MAX_BATCH_SIZE', 'gateway.maxBatchSize'],
  ['OPENCLAW_SHUTDOWN_TIMEOUT', 'gateway.shutdownTimeout'],
  ['OPENCLAW_REQUEST_TIMEOUT', 'gateway.requestTimeout'],
  ['OPENCLAW_HEADERS_TIMEOUT', 'gateway.headersTimeout'],
  ['OPENCLAW_KEEP_ALIVE_TIMEOUT', 'gateway.keepAliveTimeout'],
  ['OPENCLAW_DATABASE_URL', 'database.url'],
  ['OPENCLAW_MIGRATIONS_RUN', 'database.migrationsRun'],
  ['OPENCLAW_REDIS_URL', 'redis.url'],
  ['OPENCLAW_JWT_SECRET', 'auth.jwt.secret'],
  ['OPENCLAW_JWT_ISSUER', 'auth.jwt.issuer'],
  ['OPENCLAW_JWT_AUDIENCE', 'auth.jwt.audience'],
  ['OPENCLAW_JWKS_URL', 'auth.jwt.jwksUrl'],
  ['OPENCLAW_ENCRYPTION_KEY', 'auth.encryptionKey'],
  ['OPENCLAW_LOG_LEVEL', 'log.level'],
  ['OPENCLAW_LOG_ACCESS', 'log.access'],
  ['OPENCLAW_MCP_PUBLIC_URL', 'mcp.publicUrl'],
  ['OPENCLAW_INSTANCE_ID', 'instanceId'],
];

// Secrets never appear in an error message, even when they are the invalid value.
const SECRET_PATHS = new Set(['auth.jwt.secret', 'auth.encryptionKey']);

type Plain = Record<string, unknown>;

/** A JSON-like object (not an array, a class instance or null): merged key by key. */
function isPlainObject(value: unknown): value is Plain {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

/**
 * `over` merged into a copy of `base`: plain objects merge key by key, anything else (arrays
 * included) replaces, values are copied. Keys named like Object properties are skipped, so no
 * merge can reach a prototype. Used for file < code options, and by GatewayBuilder.withConfig.
 */
export function mergeConfig(base: object, over: object): Plain {
  const merged: Plain = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined || isPrototypeKey(key)) continue;
    const current = Object.hasOwn(merged, key) ? merged[key] : undefined;
    merged[key] =
      isPlainObject(current) && isPlainObject(value)
        ? mergeConfig(current, value)
        : structuredClone(value);
  }
  return merged;
}

function setPath(target: Plain, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Plain;
  }
  node[keys[keys.length - 1]] = value;
}

function readConfigFile(options: LoadConfigOptions, env: NodeJS.ProcessEnv): Plain {
  if (options.ignoreFile) return {};
  const explicit = env.OPENCLAW_CONFIG;
  const path = resolve(options.cwd ?? process.cwd(), explicit ?? 'openclaw.json');
  if (!explicit && !existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigValidationError([
      `OPENCLAW_CONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigValidationError([`${path}: not valid JSON (${(error as Error).message})`]);
  }
  if (!isPlainObject(parsed)) {
    throw new ConfigValidationError([`${path}: must hold a JSON object`]);
  }
  return parsed;
}

function collectProblems(
  errors: ValidationError[],
  fromEnv: Map<string, string>,
  prefix = '',
): string[] {
  return describeViolations(violationsFromClassValidator(errors, prefix), {
    label: (path) => {
      const envName = fromEnv.get(path);
      return envName ? `${path} (${envName})` : path;
    },
    showValue: (path) => !SECRET_PATHS.has(path),
  });
}

/**
 * Paths of keys named like Object's own properties (`constructor`, `__proto__`, `toString`…)
 * anywhere in the config: class-transformer would reach the prototype through them, and a map
 * read by such a name finds something no file put there.
 */
function prototypeKeyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) {
    return value.flatMap((item, index) => prototypeKeyPaths(item, `${prefix}[${index}]`));
  }
  if (!isPlainObject(value)) return [];
  return Object.keys(value).flatMap((key) => {
    const path = prefix ? `${prefix}.${key}` : key;
    return isPrototypeKey(key) ? [path] : prototypeKeyPaths(value[key], path);
  });
}

/**
 * Builds the gateway's configuration: defaults < openclaw.json < code overrides < OPENCLAW_* env.
 * Throws ConfigValidationError naming every invalid key.
 */
export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  const file = readConfigFile(options, env);
  const overrides = options.overrides ?? {};
  // Checked before merging, which would drop such keys without a word.
  const prototypeKeys = [...prototypeKeyPaths(file), ...prototypeKeyPaths(overrides)];
  if (prototypeKeys.length) {
    throw new ConfigValidationError(
      prototypeKeys.map((path) => `${path}: this key name is not accepted (an Object property)`),
    );
  }
  const merged = mergeConfig(file, overrides);
  const fromEnv = new Map<string, string>();
  for (const [name, path] of ENV_KEYS) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    setPath(merged, path, value);
    fromEnv.set(path, name);
  }

  const config = plainToInstance(GatewayConfig, merged, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) throw new ConfigValidationError(collectProblems(errors, fromEnv));
  return config;
}
