/** Connection failures of pg, ioredis and Node sockets, and PostgreSQL's connection-class SQLSTATEs. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** What pg and TypeORM say when the connection went away without a code. */
const CONNECTION_MESSAGES =
  /connection terminated|connection (?:is )?(?:closed|not open)|timeout exceeded when trying to connect|client has encountered a connection error|database connection is not open/i;

/**
 * True when an error means a store the gateway needs (PostgreSQL, Redis) could not be reached,
 * not that the call was wrong: the call may succeed when retried, here or on another instance.
 * Looks through TypeORM's `driverError` and `cause`, a few levels deep.
 */
export function isStoreUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, message, driverError, cause } = error as Record<string, unknown>;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (typeof message === 'string' && CONNECTION_MESSAGES.test(message)) return true;
  return isStoreUnavailable(driverError, depth + 1) || isStoreUnavailable(cause, depth + 1);
}
