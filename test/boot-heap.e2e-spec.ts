import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, startNode } from './support/process.js';

// The built gateway (`npm test` builds first); OPENCLAW_TEST_DIST points at another build.
const DIST = process.env.OPENCLAW_TEST_DIST ?? join(ROOT, 'dist');
const FIXTURE = join(import.meta.dirname, 'fixtures/young-generation.mjs');

describe('the young generation during boot', () => {
  it('stays at its start size while held, and grows under surviving allocations once released', async () => {
    const proc = startNode([FIXTURE, DIST]);
    const [line] = await proc.waitFor(/^\{.*\}$/m);
    expect((await proc.exited).code).toBe(0);
    const sizes = JSON.parse(line) as { start: number; held: number; released: number };
    // 64 MB of survivors would grow it to V8's maximum (32 MB) without the hold.
    expect(sizes.held).toBeLessThanOrEqual(Math.max(2, sizes.start));
    expect(sizes.released).toBeGreaterThanOrEqual(8 * sizes.held);
  });
});
