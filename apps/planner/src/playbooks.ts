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
 * "Analyze these financial filings and write a Python script to graph the trends":
 * fetch the reported figures (SN13), then in parallel analyse them (SN1) and write
 * the plotting script (SN62), both working from the verified rows.
 */
export const financialAnalysisPlaybook: Playbook = {
  name: 'financial-analysis',
  matches: (goal) => /\b(financ\w*|filings?|revenue|earnings|income)\b/i.test(goal),
  plan: (goal, inputs) => {
    const rows = { $ref: '/steps/data/output/rows' };
    // The client's inputs are referenced, not copied: the record holds them once, however large.
    const fromInputs = (key: keyof FinancialsRequest) => (inputs[key] !== undefined ? { $ref: `/inputs/${key}` } : DEFAULT_FINANCIALS_REQUEST[key]);
    return [
      {
        id: 'data',
        capability: 'data.financials',
        input: { entities: fromInputs('entities'), periods: fromInputs('periods'), metrics: fromInputs('metrics') },
        deps: [],
      },
      { id: 'analysis', capability: 'text.analysis', input: { question: goal, rows }, deps: ['data'] },
      {
        id: 'code',
        capability: 'code.python',
        input: { task: 'Write a Python script that graphs revenue and net income per company over the fiscal years.', rows },
        deps: ['data'],
      },
    ];
  },
};

export const PLAYBOOKS: readonly Playbook[] = [financialAnalysisPlaybook];
