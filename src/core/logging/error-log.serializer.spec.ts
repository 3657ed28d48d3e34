import { stdSerializers } from 'pino';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import {
  MAX_LOGGED_MESSAGE_LENGTH,
  MAX_LOGGED_STACK_LENGTH,
  serializeLoggedError,
} from './error-log.serializer.js';

/** What pino writes for `{ err }`: its standard serializer, then ours. */
function logged(error: Error): Record<string, unknown> {
  return JSON.parse(JSON.stringify(serializeLoggedError(stdSerializers.err(error)))) as Record<
    string,
    unknown
  >;
}

describe('serializeLoggedError', () => {
  it('drops the bound parameters of a failed query, on the error and on its driver error', () => {
    const driverError = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
      detail: 'Key (content)=(the secret message) already exists.',
      parameters: ['the secret message'],
    });
    const error = new QueryFailedError(
      'INSERT INTO "note"("content") VALUES ($1)',
      ['the secret message'],
      driverError,
    );

    const line = logged(error);

    expect(JSON.stringify(line)).not.toContain('the secret message');
    expect(line).toMatchObject({
      type: 'QueryFailedError',
      query: 'INSERT INTO "note"("content") VALUES ($1)',
      code: '23505',
      driverError: { code: '23505' },
    });
  });

  it('bounds the message and the stack of an error that holds a client megabyte', () => {
    const error = new Error('x'.repeat(1_000_000));

    const line = logged(error);

    expect(JSON.stringify(line).length).toBeLessThan(
      MAX_LOGGED_MESSAGE_LENGTH + MAX_LOGGED_STACK_LENGTH + 1_000,
    );
    expect(line.message).toMatch(/more characters\]$/);
  });

  it('keeps an ordinary error whole', () => {
    const line = logged(new TypeError('boom'));
    expect(line).toMatchObject({ type: 'TypeError', message: 'boom' });
    expect(line.stack).toContain('TypeError: boom');
  });

  it('leaves values that are not errors alone', () => {
    expect(serializeLoggedError('text')).toBe('text');
  });
});
