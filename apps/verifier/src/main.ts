// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { configurePythonParsers } from '@orchestra/schemas';
import { verifierConfig } from './config';
import { VerifierController } from './verifier.controller';
import { VerifierService } from './verifier.service';

const config = verifierConfig(process.env);
configurePythonParsers(config.python);

void runBusWorker({
  name: 'verifier',
  config,
  opsPort: 9463,
  controllers: [VerifierController],
  providers: [VerifierService],
  // Ready either way (the other capabilities verify fine), but /readyz says when code cannot be checked.
  readiness: (app) => ({ ready: true, checks: { python: app.get(VerifierService).pythonCheck } }),
});
