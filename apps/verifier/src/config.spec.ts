import { ConfigError, loadConfig } from '@orchestra/service';
import { K8S_OVERLAYS, shippedEnv } from '@orchestra/testing';
import { verifierSections } from './config';

describe("the verifier's config", () => {
  it('reads the Python parsers beside its connection, and names each bad variable', () => {
    expect(loadConfig(verifierSections, { ORCH_PYTHON: 'python3.12', ORCH_PYTHON_PARSERS: '4' }).python).toEqual({ python: 'python3.12', parsers: 4 });
    const attempt = () => loadConfig(verifierSections, { ORCH_PYTHON_PARSERS: 'lots', ORCH_STUCK_HANDLER_MS: '10' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ORCH_STUCK_HANDLER_MS .*"10" \| ORCH_PYTHON_PARSERS .*"lots"/);
  });

  it.each(K8S_OVERLAYS)('accepts what the %s manifests configure', (overlay) => {
    expect(() => loadConfig(verifierSections, shippedEnv(overlay))).not.toThrow();
  });
});
