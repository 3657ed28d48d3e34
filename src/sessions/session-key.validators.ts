import { applyDecorators } from '@nestjs/common';
import { IsString, MaxLength, MinLength } from '../core/validation/class-validator.parts.js';

/** A session key as params carry it; an unknown key is answered -32004 by the service. */
export function IsSessionKey(): PropertyDecorator {
  return applyDecorators(IsString(), MinLength(1), MaxLength(128));
}
