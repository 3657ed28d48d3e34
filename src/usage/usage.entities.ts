import { TokenUsageTotalEntity } from './token-usage-total.entity.js';
import { TokenUsageEntity } from './token-usage.entity.js';

/** The usage feature's tables, registered with TypeOrmModule.forFeature. */
export const USAGE_ENTITIES = [TokenUsageEntity, TokenUsageTotalEntity];
