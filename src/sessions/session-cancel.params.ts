import { IsSessionKey } from './session-key.validators.js';
import type { SessionCancelInput } from './session-api.types.js';

export class SessionCancelParams implements SessionCancelInput {
  @IsSessionKey()
  sessionKey: string;
}
