/**
 * Malformed user input (an --inject or --policy string, a rules file). The
 * message names what was wrong and what is accepted; the CLI turns it into a
 * usage error (exit 2).
 */
export class GrammarError extends Error {
  constructor(
    /** Which input: 'inject', 'policy', 'rules.json' ... */
    readonly input: string,
    message: string,
  ) {
    super(`${input}: ${message}`);
    this.name = 'GrammarError';
  }
}
