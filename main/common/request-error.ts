/**
 * A request the core refused or failed, as both sides see it: `code` is
 * stable (EPARAMS, ENOSESSION, ...), `message` says cause and fix.
 */
export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}
