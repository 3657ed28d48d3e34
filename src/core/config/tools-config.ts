import { IsInt, Min } from '../validation/class-validator.parts.js';
import { duration, DURATION } from './config.decorators.js';

export class ToolsConfig {
  @duration()
  @IsInt(DURATION)
  @Min(1, DURATION)
  timeout = 30_000;
}
