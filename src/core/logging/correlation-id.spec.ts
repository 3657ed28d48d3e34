import { describe, expect, it } from 'vitest';
import { callCorrelationId, MAX_PLAIN_RPC_ID_LENGTH } from './correlation-id.js';

describe('callCorrelationId', () => {
  it('keeps a short JSON-RPC id as it is', () => {
    expect(callCorrelationId('req-1', 7)).toBe('req-1:7');
    expect(callCorrelationId('req-1', null)).toBe('req-1:null');
    expect(callCorrelationId('req-1', 'x'.repeat(MAX_PLAIN_RPC_ID_LENGTH))).toBe(
      `req-1:${'x'.repeat(MAX_PLAIN_RPC_ID_LENGTH)}`,
    );
  });

  it('replaces a long id by a short, stable sha256 prefix', () => {
    const long = 'i'.repeat(320 * 1024);
    const id = callCorrelationId('req-1', long);
    expect(id).toMatch(/^req-1:sha256-[0-9a-f]{16}$/);
    expect(callCorrelationId('req-1', long)).toBe(id);
    expect(callCorrelationId('req-1', `${long}!`)).not.toBe(id);
  });
});
