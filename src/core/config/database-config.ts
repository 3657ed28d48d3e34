import { IsBoolean, IsString, Matches } from '../validation/class-validator.parts.js';
import { boolean } from './config.decorators.js';

export class DatabaseConfig {
  @IsString()
  @Matches(/^(sqlite:|postgres:\/\/|postgresql:\/\/)/, {
    message: '$property must start with sqlite:, postgres:// or postgresql://',
  })
  url = 'sqlite:./data/openclaw.db';

  @boolean()
  @IsBoolean()
  migrationsRun = true;
}
