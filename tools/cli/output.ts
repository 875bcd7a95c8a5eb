/** Where a command writes: a human rendering by default, the value as JSON with `--json`; problems on stderr. */
export interface Output {
  /** The command's result: `human()` as text, or `value` as JSON. */
  result(value: unknown, human: () => string): void;
  /** Progress a human follows (not printed with --json, where the result says it all). */
  progress(line: string): void;
  error(line: string): void;
}

export function consoleOutput(json: boolean, write = (s: string) => process.stdout.write(s), writeError = (s: string) => process.stderr.write(s)): Output {
  return {
    result: (value, human) => write(`${json ? JSON.stringify(value, null, 2) : human()}\n`),
    progress: (line) => {
      if (!json) write(`${line}\n`);
    },
    error: (line) => writeError(`${line}\n`),
  };
}
