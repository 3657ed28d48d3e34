/** Longest message kept in a logged error; a client can put its own text in an error message. */
export const MAX_LOGGED_MESSAGE_LENGTH = 2_048;
/** Longest stack kept in a logged error. */
export const MAX_LOGGED_STACK_LENGTH = 8_192;

// Bound values of a failed query (TypeORM's QueryFailedError and its driver error) and PostgreSQL's
// `detail` ("Key (x)=(value) already exists") carry message content: never logged.
const CONTENT_KEYS = ['parameters', 'detail'] as const;

type LoggedError = Record<string, unknown>;

function truncate(value: unknown, max: number): unknown {
  if (typeof value !== 'string' || value.length <= max) return value;
  return `${value.slice(0, max)}… [${value.length - max} more characters]`;
}

function isObject(value: unknown): value is LoggedError {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * pino's `err` serializer, run after pino's standard one: drops query parameters and bounds the
 * message and stack, so an error log line can hold neither session content nor a client's megabyte.
 */
export function serializeLoggedError(err: unknown, depth = 0): unknown {
  if (!isObject(err)) return err;
  const safe: LoggedError = {};
  for (const [key, value] of Object.entries(err)) {
    if ((CONTENT_KEYS as readonly string[]).includes(key)) continue;
    // Nested errors (driverError, cause) are cleaned too; deeper objects are not logged.
    safe[key] = !isObject(value)
      ? value
      : depth < 2
        ? serializeLoggedError(value, depth + 1)
        : '[object]';
  }
  if ('message' in safe) safe.message = truncate(safe.message, MAX_LOGGED_MESSAGE_LENGTH);
  if ('stack' in safe) safe.stack = truncate(safe.stack, MAX_LOGGED_STACK_LENGTH);
  if ('query' in safe) safe.query = truncate(safe.query, MAX_LOGGED_MESSAGE_LENGTH);
  return safe;
}
