import { z } from 'zod';
import type { SourceProviderId } from '@orchestra/contracts';
import { AnalysisInputSchema, AnalysisRequestSchema, AnalysisSchema, checkAnalysis, checkCitedAnalysis, CitedAnalysisSchema } from './analysis';
import type { SemanticCheck } from './check';
import { checkExtraction, ExtractInputSchema, ExtractionSchema } from './data-extract';
import { checkPythonCode, CodeRequestSchema, PythonCodeSchema } from './code';
import { checkExtractedFinancials, checkFinancials, ExtractedFinancialsSchema, FinancialsExtractRequestSchema, FinancialsRequestSchema, FinancialsSchema } from './financials';
import { checkWebSearch, WebSearchInputSchema, WebSearchSchema } from './search';
import { checkTextReport, ReportInputSchema, TextReportSchema } from './text-report';
import { checkSocialPosts, SocialPostsSchema, SocialQueryInputSchema } from './social';

/** What a source can be hired for. Each capability has one current definition (and may keep superseded versions). */
export const CAPABILITIES = ['data.financials', 'text.analysis', 'code.python', 'web.search', 'data.social', 'text.report', 'data.extract'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** A versioned schema id, `<name>@<major>`. A breaking change adds a new major; ids never change meaning. */
export type SchemaId = `${string}@${number}`;

/**
 * One capability (at one version) of the JSON Standardization Layer: everything about it in one
 * place. What is wanted (description, input), what an accepted answer is (output, check), and
 * what an LLM source needs to be told beyond that (instructions, used by promptFor).
 */
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
  /** Semantic and grounding checks against the task's input (verifyOutput runs them after the schema). */
  readonly check?: SemanticCheck;
  /** What an LLM answering it must do that the output schema cannot say. */
  readonly instructions?: readonly string[];
}

const FINANCIALS_V2: CapabilityDefinition = {
  capability: 'data.financials',
  description: 'Figures extracted from documents the client supplied (filings, reports), each row quoting the text it was read from.',
  outputSchemaId: 'data.financials@2',
  defaultNetuid: 64,
  providers: ['chutes'],
  input: FinancialsExtractRequestSchema,
  output: ExtractedFinancialsSchema,
  check: checkExtractedFinancials,
  instructions: [
    'Read the figures from the documents below only; never from memory.',
    'One row per (entity, period, metric); entity is the ticker, period the fiscal year as FY2023, metric a snake_case line item (revenue, net_income, operating_income, diluted_eps).',
    'quote: copy, verbatim, the sentence or table line of the document that states the figure; documentId: the id of that document.',
    'value: the number as the quote writes it, in the unit it is written in: "$383,285 million" or a table "in millions" showing 383,285 is 383285 USD_millions; "$1.2 billion" is 1.2 USD_billions; "(2,722)" is -2722.',
    'When entities, periods or metrics are given, give rows for those only.',
  ],
};

const ANALYSIS_V2: CapabilityDefinition = {
  capability: 'text.analysis',
  description: 'A written analysis whose every finding cites the input items it rests on: figures (rows), social posts, web results.',
  outputSchemaId: 'text.analysis@2',
  defaultNetuid: 1,
  providers: ['chutes', 'axon'],
  input: AnalysisInputSchema,
  output: CitedAnalysisSchema,
  check: checkCitedAnalysis,
  instructions: [
    'Every finding cites at least one input item: {"item": "rows"|"posts"|"results", "index": n} or, for posts and results, {"item": …, "url": …}.',
    "Add a quote to a citation only when copying its words verbatim: a row's quote, a post's text, a result's title or snippet.",
    'A finding that names a ticker cites at least one row of that company.',
  ],
};

const CODE: CapabilityDefinition = {
  capability: 'code.python',
  description: 'A self-contained Python script with its dependencies and entrypoint.',
  outputSchemaId: 'code.python@1',
  defaultNetuid: 62,
  providers: ['chutes', 'axon'],
  input: CodeRequestSchema,
  output: PythonCodeSchema,
  check: checkPythonCode,
  instructions: ['The code must parse as Python 3; embed the input rows it works on; list every third-party package in dependencies; entrypoint is the file name (.py).'],
};

const WEB_SEARCH: CapabilityDefinition = {
  capability: 'web.search',
  description: 'Citable web results (url, title, snippet, date) for a query.',
  outputSchemaId: 'web.search@1',
  defaultNetuid: 22,
  providers: ['desearch', 'axon'],
  input: WebSearchInputSchema,
  output: WebSearchSchema,
  check: checkWebSearch,
};

const SOCIAL: CapabilityDefinition = {
  capability: 'data.social',
  description: 'Recent social posts (url, platform, author, date, text) matching keywords, authors, a platform and a time window.',
  outputSchemaId: 'data.social@1',
  defaultNetuid: 13,
  providers: ['constellation', 'desearch', 'axon'],
  input: SocialQueryInputSchema,
  output: SocialPostsSchema,
  check: checkSocialPosts,
};

const TEXT_REPORT: CapabilityDefinition = {
  capability: 'text.report',
  description: 'A titled report: sections of paragraphs, each grounded in the items it cites.',
  outputSchemaId: 'text.report@1',
  defaultNetuid: 1,
  providers: ['chutes'],
  input: ReportInputSchema,
  output: TextReportSchema,
  check: checkTextReport,
  instructions: [
    'Title the report with the given title, or after the question it answers.',
    'Every paragraph cites at least one input item: {"item": "rows"|"posts"|"results"|"findings", "index": n} or, for posts and results, {"item": …, "url": …}.',
    "Add a quote to a citation only when copying its words verbatim: a row's quote, a post's text, a result's title or snippet, a finding's statement.",
    'A paragraph that names a ticker cites at least one row of that company.',
  ],
};

const DATA_EXTRACT: CapabilityDefinition = {
  capability: 'data.extract',
  description: "Structured data, shaped by the client's JSON Schema, read from documents the client supplied, every value backed by a quote.",
  outputSchemaId: 'data.extract@1',
  defaultNetuid: 64,
  providers: ['chutes'],
  input: ExtractInputSchema,
  output: ExtractionSchema,
  check: checkExtraction,
  instructions: [
    'Read the values from the documents below only; never from memory. data must conform to the schema in the input.',
    'For every string and number in data, add evidence { path, documentId, quote }: path the JSON pointer of the value in data (/name, /items/0/price), quote the words of the document, copied verbatim, that contain the value.',
    'Write each value as its quote writes it: a string copied from the quote, a number with the digits the quote shows.',
  ],
};

/** The current definition of each capability: what new plans get. */
export const CAPABILITY_DEFINITIONS: Readonly<Record<Capability, CapabilityDefinition>> = {
  'data.financials': FINANCIALS_V2,
  'text.analysis': ANALYSIS_V2,
  'code.python': CODE,
  'web.search': WEB_SEARCH,
  'data.social': SOCIAL,
  'text.report': TEXT_REPORT,
  'data.extract': DATA_EXTRACT,
};

/**
 * Earlier versions still registered: records written under them keep verifying, and a step whose
 * input is written for one of them (data.financials@1's entities/periods/metrics with no
 * documents) still runs under it.
 */
export const SUPERSEDED_DEFINITIONS: readonly CapabilityDefinition[] = [
  {
    capability: 'data.financials',
    description: 'Reported financial figures (revenue, net income) per company and fiscal year, with sources.',
    outputSchemaId: 'data.financials@1',
    defaultNetuid: 13,
    providers: ['axon'],
    input: FinancialsRequestSchema,
    output: FinancialsSchema,
    check: checkFinancials,
  },
  {
    capability: 'text.analysis',
    description: 'A written analysis whose every finding cites the data rows it rests on.',
    outputSchemaId: 'text.analysis@1',
    defaultNetuid: 1,
    providers: ['chutes', 'axon'],
    input: AnalysisRequestSchema,
    output: AnalysisSchema,
    check: checkAnalysis,
  },
];

/** Every definition, current first. */
export const ALL_DEFINITIONS: readonly CapabilityDefinition[] = [...Object.values(CAPABILITY_DEFINITIONS), ...SUPERSEDED_DEFINITIONS];

export function isCapability(value: string): value is Capability {
  return (CAPABILITIES as readonly string[]).includes(value);
}

/** The definition that owns an output schema id, if any. */
export function definitionOfSchema(schemaId: string): CapabilityDefinition | undefined {
  return ALL_DEFINITIONS.find((d) => d.outputSchemaId === schemaId);
}

/**
 * The version of a capability a step's input is written for: the current one, unless the input
 * is an object whose keys fit only a superseded version (every key known to it, every key it
 * requires present). Keys decide, not values, because a plan's inputs hold unresolved `$ref`s.
 */
export function definitionFor(capability: Capability, input: unknown): CapabilityDefinition {
  const current = CAPABILITY_DEFINITIONS[capability];
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return current;
  const keys = Object.keys(input);
  const fits = (d: CapabilityDefinition): boolean => {
    if (!(d.input instanceof z.ZodObject)) return true;
    const shape = d.input.shape as Record<string, z.ZodType>;
    return keys.every((k) => k in shape) && Object.entries(shape).every(([k, field]) => keys.includes(k) || field.safeParse(undefined).success);
  };
  if (fits(current)) return current;
  return SUPERSEDED_DEFINITIONS.find((d) => d.capability === capability && fits(d)) ?? current;
}
