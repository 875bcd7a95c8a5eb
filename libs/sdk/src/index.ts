/**
 * Orchestra's TypeScript client: `new Orchestra()` finds the API (options, ORCHESTRA_URL and
 * ORCHESTRA_API_KEY, or the devnet's tmp/devnet/connection.json). Every error it throws is an
 * OrchestraError, one class per condition for `instanceof`.
 */
export { Orchestra, FINAL_STATUSES, type ClientOptions, type EventsOptions, type WaitOptions } from './client';
export { resolveConnection, DEVNET_CONNECTION_PATH, type Connection, type ConnectionOptions } from './connection';
export {
  OrchestraError,
  ConfigurationError,
  ConnectionError,
  ProtocolError,
  TimeoutError,
  ApiError,
  ValidationError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  UnprocessableError,
  RateLimitedError,
  ServerError,
  JobFailedError,
  JobCancelledError,
  PlanRejectedError,
  type Problem,
} from './errors';
export type * from './types';
