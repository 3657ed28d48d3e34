import { describe, expect, it } from 'vitest';
import { ClockNowTool } from './clock-now.tool.js';
import { ToolInvalidArgumentsException } from './tool.exception.js';

const fixed = new Date('2026-03-01T12:34:56.789Z');

describe('ClockNowTool', () => {
  it('returns ISO time and epoch ms in UTC by default', async () => {
    const output = await new ClockNowTool(() => fixed).execute({});
    expect(output.structuredContent).toEqual({
      iso: '2026-03-01T12:34:56.789Z',
      epochMs: fixed.getTime(),
      timeZone: 'UTC',
      local: '2026-03-01 12:34:56',
    });
    expect(output.content).toEqual([
      { type: 'text', text: expect.stringContaining('2026-03-01T12:34:56.789Z') },
    ]);
  });

  it('gives the wall time in the requested time zone', async () => {
    const output = await new ClockNowTool(() => fixed).execute({ timeZone: 'Asia/Tokyo' });
    expect(output.structuredContent).toMatchObject({
      iso: '2026-03-01T12:34:56.789Z',
      timeZone: 'Asia/Tokyo',
      local: '2026-03-01 21:34:56',
    });
  });

  it('refuses an unknown time zone as invalid arguments', async () => {
    const error = await new ClockNowTool()
      .execute({ timeZone: 'Mars/Olympus' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolInvalidArgumentsException);
    expect(error).toMatchObject({
      data: {
        tool: 'clock.now',
        violations: [
          { path: 'timeZone', message: 'must be an IANA time zone such as "Europe/Paris"' },
        ],
      },
    });
  });
});
