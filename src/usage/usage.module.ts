import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TOKEN_USAGE_REPORT } from '../core/health/token-usage.report.js';
import { BudgetService } from './budget.service.js';
import { TokenUsageStore } from './token-usage.store.js';
import { USAGE_ENTITIES } from './usage.entities.js';
import { SystemUsageClock, UsageClock } from './usage-clock.js';
import { UsageMeter } from './usage.meter.js';
import { UsageRecorder } from './usage.recorder.js';
import { UsageReport } from './usage.report.js';
import { UsageRpc } from './usage.rpc.js';
import { UsageSummaryService } from './usage-summary.service.js';

/**
 * Token usage and budgets: the `token_usage` table, the recorder the session turns call after
 * each answer, the budget check before each turn, `usage.summary`, and the usage sections of
 * /status and /metrics (through core's TOKEN_USAGE_REPORT). Global so that the health module,
 * which is core, finds the report without importing a feature.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature(USAGE_ENTITIES)],
  providers: [
    { provide: UsageClock, useClass: SystemUsageClock },
    TokenUsageStore,
    UsageMeter,
    UsageRecorder,
    BudgetService,
    UsageSummaryService,
    UsageReport,
    { provide: TOKEN_USAGE_REPORT, useExisting: UsageReport },
    UsageRpc,
  ],
  exports: [TokenUsageStore, UsageRecorder, BudgetService, TOKEN_USAGE_REPORT],
})
export class UsageModule {}
