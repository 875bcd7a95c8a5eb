import { promptFor } from './prompts';

describe('promptFor', () => {
  it('states the capability, its output schema and the input, and carries the feedback of a re-ask', () => {
    const input = { task: 'Plot revenue per year.', rows: [] };
    const [system, user] = promptFor('code.python', input, ['code: does not parse']);
    expect(system.role).toBe('system');
    expect(system.content).toContain('code.python');
    expect(system.content).toContain('"entrypoint"');
    expect(user.content).toContain('Plot revenue per year.');
    expect(user.content).toContain('- code: does not parse');
  });

  it('asks nothing about feedback on a first ask', () => {
    const messages = promptFor('code.python', { task: 'x', rows: [] });
    expect(messages.map((m) => m.content).join('\n')).not.toContain('rejected');
  });
});
