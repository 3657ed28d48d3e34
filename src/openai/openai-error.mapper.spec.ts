import { ForbiddenException, UnauthorizedException } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { AgentFailedException, AgentNotFoundException } from '../agents/agent.exception.js';
import { RateLimitedException } from '../core/rate-limit/rate-limited.exception.js';
import {
  SessionBusyException,
  SessionEndedException,
  SessionNotFoundException,
} from '../sessions/session.exception.js';
import { BudgetExceededException } from '../usage/budget-exceeded.exception.js';
import { mapOpenAiError } from './openai-error.mapper.js';

const map = (thrown: unknown) => mapOpenAiError(thrown, 'corr-1');

describe('mapOpenAiError', () => {
  it("maps the global guards' refusals", () => {
    expect(map(new UnauthorizedException('Token expired')).error).toMatchObject({
      status: 401,
      type: 'authentication_error',
      message: 'Token expired',
    });
    const forbidden = map(
      new ForbiddenException({ statusCode: 403, message: 'Forbidden', requiredScope: 'x:y' }),
    ).error;
    expect(forbidden).toMatchObject({ status: 403, type: 'permission_error' });
    expect(forbidden.message).toContain('"x:y"');
    expect(map(new ThrottlerException()).error).toMatchObject({
      status: 429,
      type: 'rate_limit_error',
    });
  });

  it('maps a spent token budget to 429 insufficient_quota, not to be retried before its reset', () => {
    const lifetime = map(new BudgetExceededException('session', 100, 100)).error;
    expect(lifetime).toMatchObject({
      status: 429,
      type: 'insufficient_quota',
      code: 'insufficient_quota',
    });
    expect(lifetime.headers).toEqual({ 'x-should-retry': 'false' });
    const resetAt = new Date(Date.now() + 90_000).toISOString();
    const windowed = map(new BudgetExceededException('subject', 120, 100, resetAt)).error;
    expect(windowed.headers['x-should-retry']).toBe('false');
    expect(Number(windowed.headers['retry-after'])).toBeGreaterThanOrEqual(89);
    expect(Number(windowed.headers['retry-after'])).toBeLessThanOrEqual(90);
  });

  it('maps domain errors by code', () => {
    expect(map(new AgentNotFoundException('gpt')).error).toMatchObject({
      status: 404,
      code: 'model_not_found',
      param: 'model',
    });
    expect(map(new SessionNotFoundException('ses_x')).error).toMatchObject({
      status: 404,
      code: 'session_not_found',
    });
    expect(map(new SessionEndedException('ses_x')).error).toMatchObject({
      status: 409,
      code: 'session_ended',
      headers: { 'x-should-retry': 'false' },
    });
    expect(map(new SessionBusyException('ses_x', 8)).error).toMatchObject({
      status: 409,
      code: 'session_busy',
      headers: { 'x-should-retry': 'true' },
    });
  });

  it("answers the agent's provider failing with a retryable 502, other agent failures 500", () => {
    expect(map(new AgentFailedException('llm', 'provider down', true)).error).toMatchObject({
      status: 502,
      type: 'server_error',
      code: 'agent_unavailable',
      headers: { 'x-should-retry': 'true' },
    });
    expect(map(new AgentFailedException('llm', 'broken', false)).error).toMatchObject({
      status: 500,
      code: 'agent_failed',
      headers: { 'x-should-retry': 'false' },
    });
  });

  it('answers limits 429 with Retry-After, and an unreachable store 503', () => {
    expect(map(new RateLimitedException(2500, 'client')).error).toMatchObject({
      status: 429,
      headers: { 'retry-after': '3', 'retry-after-ms': '2500' },
    });
    expect(map(new RateLimitedException(1000, 'client', 'store_unavailable')).error).toMatchObject({
      status: 503,
      code: 'store_unavailable',
      headers: { 'retry-after': '1' },
    });
    const outage = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(map(outage)).toMatchObject({
      error: { status: 503, code: 'store_unavailable' },
      unexpected: false,
    });
  });

  it('hides an unexpected error behind the correlation id', () => {
    const mapped = map(new Error('secret detail'));
    expect(mapped.unexpected).toBe(true);
    expect(mapped.error.toBody()).toEqual({
      error: {
        message: 'Internal error (correlation id corr-1)',
        type: 'server_error',
        code: 'internal_error',
        param: null,
      },
    });
  });
});
