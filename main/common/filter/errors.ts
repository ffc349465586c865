// A filter text problem: what is wrong and where. `offset`/`length` are in
// UTF-16 code units of the filter text, so the UI can underline them.
export interface FilterProblem {
  /** What is wrong, without the position, e.g. "expected a number after '..'". */
  message: string;
  offset: number;
  length: number;
}

export class FilterError extends Error {
  readonly problem: FilterProblem;

  constructor(message: string, offset: number, length = 1) {
    super(`${message} at ${offset}`);
    this.name = 'FilterError';
    this.problem = { message, offset, length: Math.max(1, length) };
  }
}

/**
 * The text with a caret line under the problem, for terminals and logs:
 *   dev == 2 && pasid in {1..}
 *                          ^^ expected a number after '..'
 */
export function formatCaret(text: string, problem: FilterProblem): string {
  const line = text.replace(/[\r\n\t]/g, ' ');
  const marks = '^'.repeat(Math.max(1, Math.min(problem.length, line.length - problem.offset)));
  return `${line}\n${' '.repeat(problem.offset)}${marks} ${problem.message}`;
}
