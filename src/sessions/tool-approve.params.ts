import {
  IsIn,
  IsOptional,
  IsString,
  MaxLength,
  MinLength,
} from '../core/validation/class-validator.parts.js';
import { IsSessionKey } from './session-key.validators.js';
import type { ToolApprovalDecision, ToolApproveInput } from './tool-approval.types.js';

export class ToolApproveParams implements ToolApproveInput {
  @IsSessionKey()
  sessionKey: string;

  /** The call's id, as in its `tool.approval_requested` event. */
  @IsString()
  @MinLength(1)
  @MaxLength(256)
  toolCallId: string;

  @IsIn(['approve', 'deny'])
  decision: ToolApprovalDecision;

  /** Shown to the model with a denial, and stored in the log. */
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  reason?: string;
}
