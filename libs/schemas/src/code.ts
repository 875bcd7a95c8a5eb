import { z } from 'zod';
import { semanticCheck, VerifyOptions } from './check';
import { AnyFinancialRowSchema } from './financials';
import { checkPythonSyntax } from './python-syntax';

/** Input of a `code.python` step: what the script must do, and the data it works on (rows of either data.financials version). */
export const CodeRequestSchema = z
  .object({
    task: z.string().min(1).max(4000),
    rows: z.array(AnyFinancialRowSchema).min(1),
  })
  .strict();
export type CodeRequest = z.infer<typeof CodeRequestSchema>;

/** Output of a `code.python` step: a self-contained script and how to run it. */
export const PythonCodeSchema = z
  .object({
    language: z.literal('python'),
    code: z.string().min(1).max(100_000),
    dependencies: z.array(z.string().regex(/^[A-Za-z0-9_.\-[\]<>=!~, ]+$/)).max(50),
    entrypoint: z.string().min(1).max(200),
  })
  .strict();
export type PythonCode = z.infer<typeof PythonCodeSchema>;

/** code.python@1: the entrypoint is a .py file and the code parses as Python (never run). The input is not consulted. */
export const checkPythonCode = semanticCheck(
  'code.python@1',
  { output: PythonCodeSchema, input: z.unknown() },
  async (output: PythonCode, _input: unknown, options: VerifyOptions) => {
    const errors = output.entrypoint.endsWith('.py') ? [] : [`entrypoint: must name a .py file, got ${JSON.stringify(output.entrypoint)}`];
    return options.syntaxChecked ? errors : [...errors, ...(await checkPythonSyntax(output.code))];
  },
);
