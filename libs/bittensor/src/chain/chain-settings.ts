import { z } from 'zod';

const blankToUndefined = (raw: unknown) => (typeof raw === 'string' && raw.trim() === '' ? undefined : raw);

/** `ORCH_SUBTENSOR_URL`: the subtensor node's WebSocket URL (blank = the devnet's). */
export const subtensorUrlSetting = z.preprocess(
  blankToUndefined,
  z
    .string()
    .regex(/^wss?:\/\/\S+$/, 'must be a ws:// or wss:// URL')
    .default('ws://127.0.0.1:9944'),
);

/** `ORCH_NETUIDS`: a comma-separated list of netuids; undefined (blank) = every subnet. */
export const netuidsSetting = z.preprocess(
  blankToUndefined,
  z
    .string()
    .regex(/^\s*\d{1,5}\s*(,\s*\d{1,5}\s*)*$/, 'must be a comma-separated list of netuids (e.g. 1,13,62)')
    .transform((list) => list.split(',').map(Number))
    .optional(),
);

/** Which chain to read, and which of its subnets: `ORCH_SUBTENSOR_URL`, `ORCH_NETUIDS`. */
export const chainSettings = z
  .object({ ORCH_SUBTENSOR_URL: subtensorUrlSetting, ORCH_NETUIDS: netuidsSetting })
  .transform((env) => ({ url: env.ORCH_SUBTENSOR_URL, netuids: env.ORCH_NETUIDS }));
