import { z } from 'zod';
import { FinancialRowSchema } from './financials';

/** Input of a `code.python` step: what the script must do, and the data it works on. */
export const CodeRequestSchema = z
  .object({
    task: z.string().min(1).max(4000),
    rows: z.array(FinancialRowSchema).min(1),
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
