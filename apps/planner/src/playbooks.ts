import { PlanStepSpec } from '@orchestra/contracts';
import { FinancialsRequest } from '@orchestra/schemas';

/**
 * Vetted plans for common kinds of goal. They serve twice: as worked examples in the planning
 * prompt, and as the fallback when no model gives a valid plan. Each references the client's
 * inputs (`{"$ref":"/inputs/…"}`) instead of copying them, so the record holds them once.
 *
 * Capabilities are named as the catalog (libs/schemas) names them; a playbook whose
 * capability a deployment lacks fails the plan checks like any other plan and is passed over.
 */
export interface Playbook {
  readonly name: string;
  readonly description: string;
  /** How well the goal (and inputs) fit, 0 = not at all: the fallback takes the best fit whose plan passes the checks. */
  score(goal: string, inputs: Record<string, unknown>): number;
  plan(goal: string, inputs: Record<string, unknown>): PlanStepSpec[];
  /** A goal this playbook is the vetted answer to, for the planning prompt. */
  readonly exampleGoal: string;
  readonly exampleInputs: Record<string, unknown>;
}

/** Words of a goal that match `pattern`, counted (a crude but predictable fit). */
function hits(goal: string, pattern: RegExp): number {
  return goal.match(new RegExp(pattern.source, 'gi'))?.length ?? 0;
}

const STOPWORDS = new Set(
  'a an the of to at by from in on for and or with as is are be was were what how does do did about this that these those me us our my your their it its into over per please find tell give show write make get people say saying think'.split(
    ' ',
  ),
);

/** The topic words of a goal: its content words minus stopwords and the playbook's own trigger words, at most `max`. */
export function topicWords(goal: string, trigger: RegExp, max: number): string[] {
  const words = goal
    .toLowerCase()
    .split(/[^\p{L}\p{N}$#@.-]+/u)
    .map((w) => w.replace(/^[.-]+|[.-]+$/g, ''))
    .filter((w) => w.length > 1 && !STOPWORDS.has(w) && !new RegExp(`^(?:${trigger.source})$`, 'i').test(w));
  return [...new Set(words)].slice(0, max).map((w) => w.slice(0, 100));
}

/** What the financial playbook fetches when the client names nothing. */
export const DEFAULT_FINANCIALS_REQUEST: FinancialsRequest = {
  entities: ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA'],
  periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'],
  metrics: ['revenue', 'net_income'],
};

const FINANCIAL = /\b(financ\w*|filings?|revenue|earnings|income|10-k|profit)\b/;

/**
 * "Analyze these financial filings and write a Python script to graph the trends".
 *
 * With the filings among the client's inputs (`documents`), the plan works from them: the LLM
 * gateway extracts the figures (data.financials@2, every row quoting its filing), recent social
 * posts (`inputs.social`, a data.social query) and news (`inputs.news`, a web.search query) are
 * bought beside them when asked for, the analysis cites all three, and the plotting script works
 * from the verified rows. Without documents, the figures are fetched from the data subnet as
 * before (data.financials@1).
 */
export const financialAnalysisPlaybook: Playbook = {
  name: 'financial-analysis',
  description: 'filings -> figures, an analysis citing them (and posts and news when asked for), and chart code',
  score: (goal) => 2 * hits(goal, FINANCIAL),
  plan: (goal, inputs) => (inputs.documents !== undefined ? filingsPlan(goal, inputs) : fetchedFiguresPlan(goal, inputs)),
  exampleGoal: 'Analyze these financial filings and write a Python script to graph the trends',
  exampleInputs: { entities: ['AAPL', 'MSFT'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] },
};

const CODE_TASK = 'Write a Python script that graphs each line item per company over the fiscal years.';

/** The client's inputs are referenced, not copied: the record holds them once, however large. */
const ref = (pointer: string) => ({ $ref: pointer });

function filingsPlan(goal: string, inputs: Record<string, unknown>): PlanStepSpec[] {
  const given = (key: string) => inputs[key] !== undefined;
  const filters = Object.fromEntries(['entities', 'periods', 'metrics'].filter(given).map((key) => [key, ref(`/inputs/${key}`)]));
  const rows = ref('/steps/figures/output/rows');
  const steps: PlanStepSpec[] = [{ id: 'figures', capability: 'data.financials', input: { documents: ref('/inputs/documents'), ...filters }, deps: [] }];
  const analysisInput: Record<string, unknown> = { question: goal, rows };
  const analysisDeps = ['figures'];
  if (given('social')) {
    steps.push({ id: 'social', capability: 'data.social', input: ref('/inputs/social'), deps: [] });
    analysisInput.posts = ref('/steps/social/output/posts');
    analysisDeps.push('social');
  }
  if (given('news')) {
    steps.push({ id: 'news', capability: 'web.search', input: ref('/inputs/news'), deps: [] });
    analysisInput.results = ref('/steps/news/output/results');
    analysisDeps.push('news');
  }
  steps.push(
    { id: 'analysis', capability: 'text.analysis', input: analysisInput, deps: analysisDeps },
    { id: 'code', capability: 'code.python', input: { task: CODE_TASK, rows }, deps: ['figures'] },
  );
  return steps;
}

/** Without filings: fetch the reported figures (SN13), then in parallel analyse them (SN1) and write the plotting script (SN62). */
function fetchedFiguresPlan(goal: string, inputs: Record<string, unknown>): PlanStepSpec[] {
  const rows = ref('/steps/data/output/rows');
  const fromInputs = (key: keyof FinancialsRequest) => (inputs[key] !== undefined ? ref(`/inputs/${key}`) : DEFAULT_FINANCIALS_REQUEST[key]);
  return [
    {
      id: 'data',
      capability: 'data.financials',
      input: { entities: fromInputs('entities'), periods: fromInputs('periods'), metrics: fromInputs('metrics') },
      deps: [],
    },
    { id: 'analysis', capability: 'text.analysis', input: { question: goal, rows }, deps: ['data'] },
    { id: 'code', capability: 'code.python', input: { task: 'Write a Python script that graphs revenue and net income per company over the fiscal years.', rows }, deps: ['data'] },
  ];
}

const DATASET = /\b(dataset|data set|csv|table|rows|script|python|code|compute|calculate|plot|chart|statistics)\b/;

/**
 * A task on a data set the client supplies (`inputs.rows`): the script that does it
 * (code.python) and, beside it, an analysis of the same rows (text.analysis).
 */
export const datasetCodePlaybook: Playbook = {
  name: 'dataset-code',
  description: "a script over the client's data set, with an analysis of it",
  // Only with a data set to work on; stronger than the financial playbook's words when the client brought the rows.
  score: (goal, inputs) => (Array.isArray(inputs.rows) ? 1 + 3 * hits(goal, DATASET) : 0),
  plan: (goal) => [
    { id: 'code', capability: 'code.python', input: { task: goal, rows: { $ref: '/inputs/rows' } }, deps: [] },
    { id: 'analysis', capability: 'text.analysis', input: { question: goal, rows: { $ref: '/inputs/rows' } }, deps: [] },
  ],
  exampleGoal: 'Write a Python script that computes the year-over-year growth in this data set',
  exampleInputs: { rows: [{ entity: 'ACME', period: 'FY2023', metric: 'revenue', value: 120, unit: 'USD_millions', source: 'ACME 10-K FY2023' }] },
};

const SOCIAL = /\b(sentiment|social|tweets?|posts?|reddit|x\.com|twitter|people|opinions?|reactions?|buzz|mood)\b/;

/**
 * Social sentiment on a topic: posts about it (data.social), then an analysis of the mood that
 * cites them (text.analysis).
 */
export const socialSentimentPlaybook: Playbook = {
  name: 'social-sentiment',
  description: 'posts on a topic from social platforms, and an analysis of their sentiment citing them',
  score: (goal) => 3 * hits(goal, SOCIAL),
  plan: (goal, inputs) => [
    {
      id: 'posts',
      capability: 'data.social',
      input: { keywords: Array.isArray(inputs.keywords) ? { $ref: '/inputs/keywords' } : topicWords(goal, SOCIAL, 3), limit: 50 },
      deps: [],
    },
    { id: 'analysis', capability: 'text.analysis', input: { question: goal, posts: { $ref: '/steps/posts/output/posts' } }, deps: ['posts'] },
  ],
  exampleGoal: 'What is the sentiment on X about the new Bittensor halving?',
  exampleInputs: {},
};

const RESEARCH = /\b(research|brief|sources?|web|articles?|news|overview|explain|summari[sz]e|report|latest|what is|who is)\b/;

/** A research brief from web sources: search results (web.search), then a brief that cites them (text.analysis). */
export const researchBriefPlaybook: Playbook = {
  name: 'research-brief',
  description: 'a brief on a question from web search results, citing them',
  score: (goal) => 2 * hits(goal, RESEARCH),
  plan: (goal) => [
    { id: 'search', capability: 'web.search', input: { query: goal.slice(0, 500), count: 10 }, deps: [] },
    { id: 'brief', capability: 'text.analysis', input: { question: goal, results: { $ref: '/steps/search/output/results' } }, deps: ['search'] },
  ],
  exampleGoal: 'Write a research brief on the state of decentralized AI training, with sources',
  exampleInputs: {},
};

export const PLAYBOOKS: readonly Playbook[] = [financialAnalysisPlaybook, datasetCodePlaybook, socialSentimentPlaybook, researchBriefPlaybook];

/** Playbooks that fit a goal at all, best first (ties keep the library's order). */
export function rankPlaybooks(goal: string, inputs: Record<string, unknown>, playbooks: readonly Playbook[] = PLAYBOOKS): Playbook[] {
  return playbooks
    .map((p, i) => ({ p, i, score: p.score(goal, inputs) }))
    .filter((s) => s.score > 0)
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .map((s) => s.p);
}
