import { Injectable } from '@nestjs/common';
import type { ToolRunRecorder } from './tool-run-recorder.js';

/**
 * Where `tools.execute { sessionKey }` finds its recorder. The sessions module, which builds on
 * this one, plugs its recorder in at boot as the default; a host module may plug in its own,
 * which wins whatever the order modules are built in. Without one, recording is refused.
 */
@Injectable()
export class ToolRunRecording {
  private current?: ToolRunRecorder;
  private isDefault = false;

  use(recorder: ToolRunRecorder): void {
    this.current = recorder;
    this.isDefault = false;
  }

  /** The built-in recorder: taken only while no other has been plugged in. */
  useDefault(recorder: ToolRunRecorder): void {
    if (this.current && !this.isDefault) return;
    this.current = recorder;
    this.isDefault = true;
  }

  get recorder(): ToolRunRecorder | undefined {
    return this.current;
  }
}
