/**
 * Starts OpenTelemetry before anything else loads: the first import of every service's
 * `main.ts` (or `node --require dist/libs/service/src/register.js`). Instrumentations can
 * patch only modules loaded after them, and Nest, Fastify and the NATS client load
 * `http` as soon as they are imported.
 *
 * The service name is `OTEL_SERVICE_NAME`, else the app the entry point belongs to
 * (`dist/apps/<app>/src/main.js`), so this file needs no argument. runService's own
 * initTracing call then finds tracing started and reuses it.
 */
import { basename, dirname } from 'node:path';
import { JsonLogger } from './logger';
import { initTracing } from './tracing';

const serviceName = serviceNameOf(process.argv[1] ?? '');
try {
  initTracing(serviceName);
} catch (error) {
  // A wrong OTEL_* setting is the operator's to fix: say which, as a JSON line, and stop.
  new JsonLogger({ service: serviceName }).fatal({ msg: 'invalid OpenTelemetry configuration', err: error });
  process.exit(1);
}

/** `…/apps/<app>/src/main.js` → `<app>`; anything else → the script's name. */
function serviceNameOf(entry: string): string {
  const parts = entry.split(/[\\/]/);
  const apps = parts.lastIndexOf('apps');
  return apps >= 0 && parts[apps + 1] ? parts[apps + 1] : basename(entry, '.js') || basename(dirname(entry)) || 'orchestra';
}
