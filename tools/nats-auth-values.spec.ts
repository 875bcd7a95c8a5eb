import { readFileSync } from 'node:fs';
import { natsPermissions } from '@orchestra/contracts';
import { AUTH_VALUES_FILE, authValues } from './nats-auth-values';

describe('k8s/nats/auth.values.yaml', () => {
  it('is what the contracts say (regenerate with npm run nats:auth-values)', () => {
    expect(readFileSync(AUTH_VALUES_FILE, 'utf8')).toBe(authValues());
  });

  it('gives each service only its own subjects', () => {
    const verifier = natsPermissions('verifier', { manageTopology: true });
    expect(verifier.publish).toContain('orch.job.step.verified');
    expect(verifier.publish).not.toContain('orch.job.submitted');
    expect(verifier.publish).not.toContain('>');
    expect(verifier.subscribe).toEqual(['_INBOX_verifier.>']);
    expect(natsPermissions('api', { manageTopology: false }).publish.some((s) => s.includes('STREAM.CREATE'))).toBe(false);
  });
});
