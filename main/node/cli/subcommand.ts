// What a subcommand module exports. Its name and one-line summary live in
// main.ts's table, so `iommuscope --help` and every other command start
// without loading the modules of the commands they do not run.
export interface Subcommand {
  run(argv: string[]): Promise<number>;
}
