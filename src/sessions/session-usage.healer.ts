import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { UsageRecorder } from '../usage/usage.recorder.js';
import { SessionEventEntity } from './session-event.entity.js';
import type { KnownSession } from './session.directory.js';

/**
 * Records the session's latest answer's usage again before a budgeted turn is checked. A turn's
 * usage row is written just after its `message.agent` commits; a process that died in between
 * left the tokens on the log only. That answer is always the session's latest (the next turn
 * heals it), and recording is idempotent, so one indexed read (backwards on (session, seq)) and
 * one insert-or-ignore make the session's total exact again.
 */
@Injectable()
export class SessionUsageHealer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly recorder: UsageRecorder,
  ) {}

  async heal(session: KnownSession): Promise<void> {
    const latest = await this.dataSource
      .getRepository(SessionEventEntity)
      .createQueryBuilder('e')
      .select(['e.id', 'e.seq', 'e.data', 'e.at'])
      .where('e.sessionKey = :sessionKey', { sessionKey: session.sessionKey })
      .andWhere('e.type = :type', { type: 'message.agent' })
      .orderBy('e.seq', 'DESC')
      .limit(1)
      .getOne();
    if (!latest) return;
    const data = JSON.parse(latest.data) as { usage?: Record<string, number> };
    await this.recorder.record({
      sessionKey: session.sessionKey,
      seq: latest.seq,
      subject: session.ownerSubject,
      agentId: session.agentId,
      at: Date.parse(latest.at),
      usage: data.usage,
    });
  }
}
