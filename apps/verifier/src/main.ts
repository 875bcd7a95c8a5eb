import { runBusWorker } from '@orchestra/bus';
import { VerifierController } from './verifier.controller';
import { VerifierService } from './verifier.service';

void runBusWorker({ name: 'verifier', opsPort: 9463, controllers: [VerifierController], providers: [VerifierService] });
