import { Injectable } from '@nestjs/common';
import { ToolRunRecording } from '../tools/tool-run.recording.js';
import type { Caller } from '../core/identity/caller.js';
import type {
  RecordedToolCall,
  RecordedToolResult,
  ToolRunRecorder,
} from '../tools/tool-run-recorder.js';
import { requireCaller } from '../core/auth/require-caller.js';
import { GatewayConfig } from '../core/config/gateway-config.js';
import { SessionService } from './session.service.js';

/** Records `tools.execute { sessionKey }` in the session, through the same ownership checks. */
@Injectable()
export class SessionToolRunRecorder implements ToolRunRecorder {
  constructor(
    private readonly sessions: SessionService,
    private readonly config: GatewayConfig,
    recording: ToolRunRecording,
  ) {
    recording.useDefault(this);
  }

  get maxEventBytes(): number {
    return this.config.sessions.maxEventBytes;
  }

  begin(
    caller: Caller | undefined,
    sessionKey: string,
    call: RecordedToolCall,
  ): Promise<AbortSignal> {
    return this.sessions.recordToolCall(requireCaller(caller), sessionKey, call);
  }

  finish(
    caller: Caller | undefined,
    sessionKey: string,
    result: RecordedToolResult,
  ): Promise<void> {
    return this.sessions.recordToolResult(requireCaller(caller), sessionKey, result);
  }
}
