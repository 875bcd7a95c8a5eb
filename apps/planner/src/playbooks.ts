import { PlanStepSpec } from '@orchestra/contracts';
import { FinancialsRequest } from '@orchestra/schemas';

/**
 * A playbook turns a goal the planner recognises into a plan. Clients with other goals
 * submit an explicit plan; the planner does not guess.
 */
export interface Playbook {
  readonly name: string;
  matches(goal: string): boolean;
  plan(goal: string, inputs: Record<string, unknown>): PlanStepSpec[];
}

/** What the financial playbook fetches when the client names nothing. */
export const DEFAULT_FINANCIALS_REQUEST: FinancialsRequest = {
  entities: ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA'],
  periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'],
  metrics: ['revenue', 'net_income'],
};

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
  matches: (goal) => /\b(financ\w*|filings?|revenue|earnings|income)\b/i.test(goal),
  plan: (goal, inputs) => (inputs.documents !== undefined ? filingsPlan(goal, inputs) : fetchedFiguresPlan(goal, inputs)),
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

export const PLAYBOOKS: readonly Playbook[] = [financialAnalysisPlaybook];
