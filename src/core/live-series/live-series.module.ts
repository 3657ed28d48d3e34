import { Module } from '@nestjs/common';
import { LiveSeries } from './live-series.js';

/**
 * The process's live series, one instance shared by everything that feeds it (the dispatcher's
 * call counts, the rate limits, the WebSocket registry, finished turns) and by /status/series.
 * It imports nothing: every other core folder may depend on it without a cycle.
 */
@Module({
  providers: [{ provide: LiveSeries, useFactory: () => new LiveSeries() }],
  exports: [LiveSeries],
})
export class LiveSeriesModule {}
