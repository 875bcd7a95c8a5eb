import { Consumers } from '@orchestra/contracts';
import { BusConfigError } from './errors';
import { consumersFromEnv } from './bus';

describe('consumersFromEnv', () => {
  it('keeps the contracts’ ack wait unless ORCH_ACK_WAIT_MS is set', () => {
    expect(consumersFromEnv({})).toEqual(Object.values(Consumers));
    const short = consumersFromEnv({ ORCH_ACK_WAIT_MS: '4000' });
    expect(short.map((c) => c.ackWaitMs)).toEqual(Object.values(Consumers).map(() => 4000));
    expect(short.map((c) => c.maxDeliver)).toEqual(Object.values(Consumers).map((c) => c.maxDeliver));
  });

  it('refuses an ack wait the heartbeat could not keep', () => {
    expect(() => consumersFromEnv({ ORCH_ACK_WAIT_MS: '500' })).toThrow(BusConfigError);
    expect(() => consumersFromEnv({ ORCH_ACK_WAIT_MS: 'soon' })).toThrow(/ORCH_ACK_WAIT_MS/);
  });
});
