import { BadRequestException, Controller, Get, Query } from '@nestjs/common';
import { METRICS_READ_SCOPE } from '../identity/caller.js';
import { RequireScope } from '../identity/route-scope.decorator.js';
import { LiveSeries, type LiveSeriesPoints } from '../live-series/live-series.js';
import { LifecycleService } from './lifecycle.service.js';

/** A unix time in whole or fractional seconds, no sign, no exponent, at most 16 digits. */
const UNIX_SECONDS = /^\d{1,16}(\.\d{1,6})?$/;

/**
 * The `since` of a poll: absent for the whole window, else a non-negative unix time in seconds.
 * Anything else (negative, non-numeric, repeated) is refused with 400 rather than guessed at; a
 * value past now or before the window needs no clamping, as the window bounds the answer.
 */
export function parseSince(since: unknown): number {
  if (since === undefined) return 0;
  if (typeof since !== 'string' || !UNIX_SECONDS.test(since)) {
    throw new BadRequestException(
      'since must be a unix time in seconds (a non-negative number, given once)',
    );
  }
  return Math.floor(Number(since));
}

/**
 * The live series behind the dashboard's Overview charts: this instance's last minutes, a point
 * a second. Same audience as /status. A poller passes the `until` of its last answer as `since`
 * and gets only the seconds completed since, so each poll is a few points, not the window.
 */
@Controller()
export class StatusSeriesController {
  constructor(
    private readonly live: LiveSeries,
    private readonly lifecycle: LifecycleService,
  ) {}

  @RequireScope(METRICS_READ_SCOPE)
  @Get('status/series')
  series(@Query('since') since: unknown): LiveSeriesPoints & { instanceId: string } {
    return { instanceId: this.lifecycle.instanceId, ...this.live.read(parseSince(since)) };
  }
}
