// The one error a capture reader throws: where (file byte offset) and why.
// Everything before `offset` was read and delivered before it is thrown.

export type RecordingErrorKind = 'truncated' | 'corrupt' | 'unsupported';

export class RecordingError extends Error {
  constructor(
    /** File byte offset of the first byte that could not be read. */
    readonly offset: number,
    message: string,
    readonly kind: RecordingErrorKind,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}
