import { IsBoolean, IsInt, Min } from '../validation/class-validator.parts.js';
import { duration, boolean, DURATION } from './config.decorators.js';

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
