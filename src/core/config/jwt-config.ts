import {
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Max,
  Min,
  MinLength,
  ValidateBy,
} from '../validation/class-validator.parts.js';
import type { ValidationArguments } from 'class-validator';
import { duration, DURATION } from './config.decorators.js';
import { jwksUrlProblem, type JwksSettings } from './jwks-url.policy.js';

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
