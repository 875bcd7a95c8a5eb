import { z } from 'zod';
import type { SourceProviderId } from '@orchestra/contracts';
import { AnalysisRequestSchema, AnalysisSchema } from './analysis';
import { CodeRequestSchema, PythonCodeSchema } from './code';
import { FinancialsRequestSchema, FinancialsSchema } from './financials';

/** What a miner can be hired for. Each capability has one input and one output schema. */
export const CAPABILITIES = ['data.financials', 'text.analysis', 'code.python'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** A versioned schema id, `<name>@<major>`. A breaking change adds a new major; ids never change meaning. */
export type SchemaId = `${string}@${number}`;

/** One capability of the JSON Standardization Layer. */
export interface CapabilityDefinition {
  readonly capability: Capability;
  readonly description: string;
  /** The schema every accepted output of this capability conforms to. */
  readonly outputSchemaId: SchemaId;
  /** The subnet hired for it unless a plan or the deployment says otherwise. */
  readonly defaultNetuid: number;
  /**
   * Where it is bought, in order of preference, unless the deployment says otherwise
   * (ORCH_CAPABILITY_PROVIDERS): gateways (`chutes`, `desearch`, `constellation`) and `axon`
   * (miner UIDs of the step's subnet). The dispatcher ranks the sources of all of them.
   */
  readonly providers: readonly SourceProviderId[];
  readonly input: z.ZodType;
  readonly output: z.ZodType;
}

export const CAPABILITY_DEFINITIONS: Readonly<Record<Capability, CapabilityDefinition>> = {
  'data.financials': {
    capability: 'data.financials',
    description: 'Reported financial figures (revenue, net income) per company and fiscal year, with sources.',
    outputSchemaId: 'data.financials@1',
    defaultNetuid: 13,
    providers: ['axon'],
    input: FinancialsRequestSchema,
    output: FinancialsSchema,
  },
  'text.analysis': {
    capability: 'text.analysis',
    description: 'A written analysis whose every finding cites the data rows it rests on.',
    outputSchemaId: 'text.analysis@1',
    defaultNetuid: 1,
    providers: ['chutes', 'axon'],
    input: AnalysisRequestSchema,
    output: AnalysisSchema,
  },
  'code.python': {
    capability: 'code.python',
    description: 'A self-contained Python script with its dependencies and entrypoint.',
    outputSchemaId: 'code.python@1',
    defaultNetuid: 62,
    providers: ['chutes', 'axon'],
    input: CodeRequestSchema,
    output: PythonCodeSchema,
  },
};

export function isCapability(value: string): value is Capability {
  return (CAPABILITIES as readonly string[]).includes(value);
}
