import { OpenAiError } from './openai-error.js';

/** Names the session a call continues; every answer carries the session it used. */
export const SESSION_HEADER = 'x-openclaw-session';

/** How many of the request's messages were not used (all but the last): no silent surprise. */
export const IGNORED_MESSAGES_HEADER = 'x-openclaw-ignored-messages';

/** A session key as the header may carry it: printable ASCII, as long as session keys may be. */
const SESSION_KEY = /^[\x21-\x7e]{1,128}$/;

/** The session the call continues, or undefined for a new one; a malformed value is a 400. */
export function sessionKeyOf(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !SESSION_KEY.test(value)) {
    throw OpenAiError.invalidRequest(
      'X-OpenClaw-Session must be one session key (printable ASCII, at most 128 characters)',
      'invalid_session_header',
    );
  }
  return value;
}
