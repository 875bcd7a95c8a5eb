/**
 * @orchestra/service — the runtime every Orchestra service process uses: JSON logs,
 * Prometheus metrics, OpenTelemetry tracing, the ops HTTP endpoint and the bootstrap
 * with graceful shutdown.
 */
export { MetricConflictError, ServiceConfigError, ServiceStartError } from './errors';
export { JsonLogger, parseLogLevel, type JsonLoggerOptions, type LogEntry, type LogLevel } from './logger';
export {
  counter,
  gauge,
  histogram,
  initMetrics,
  METRIC_PREFIX,
  metricsRegistry,
  type HistogramOptions,
  type MetricOptions,
} from './metrics';
export {
  startOpsServer,
  type OpsServer,
  type OpsServerOptions,
  type LivenessCheck,
  type LivenessReport,
  type ReadinessCheck,
  type ReadinessReport,
} from './ops-server';
export {
  runService,
  type RunningService,
  type RunServiceOptions,
  type ServiceAppKind,
} from './run-service';
export {
  extractTraceContext,
  initTracing,
  injectTraceContext,
  withSpan,
  type SpanAttributes,
  type TraceCarrierReader,
  type TraceCarrierWriter,
  type TracingShutdown,
} from './tracing';
