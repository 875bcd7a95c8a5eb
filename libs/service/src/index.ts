/**
 * @orchestra/service — the runtime every Orchestra service process uses: JSON logs,
 * Prometheus metrics, OpenTelemetry tracing, the ops HTTP endpoint and the bootstrap
 * with graceful shutdown.
 */
export { withCallSpan, type CallEnd, type CallTarget } from './calls';
export {
  ConfigError,
  loadConfig,
  loadServiceConfig,
  serviceSettings,
  shownValue,
  type ConfigOf,
  type ConfigSection,
  type Env,
  type SectionValue,
  type ServiceSettings,
} from './config';
export { NETWORK_PROFILES, resolveEnvironment, SECRET_FILE_SETTINGS, type NetworkName, type ResolvedEnvironment } from './network';
export { HandlerSpanInterceptor } from './handler-span.interceptor';
export { MetricConflictError, ServiceConfigError, ServiceStartError } from './errors';
export { JsonLogger, parseLogLevel, type JsonLoggerOptions, type LogEntry, type LogLevel } from './logger';
export { counter, gauge, histogram, initMetrics, METRIC_PREFIX, metricsRegistry, type HistogramOptions, type MetricOptions } from './metrics';
export { startOpsServer, type OpsServer, type OpsServerOptions, type LivenessCheck, type LivenessReport, type ReadinessCheck, type ReadinessReport } from './ops-server';
export { runService, type RunningService, type RunServiceOptions, type ServiceAppKind } from './run-service';
export { JOB_ID_HEADER, subjectTemplate, withConsumeSpan, withPublishSpan, type ConsumeSpanInfo, type PublishSpanInfo } from './messaging-spans';
export {
  activeJobId,
  extractTraceContext,
  initTracing,
  injectTraceContext,
  JOB_ID_ATTRIBUTE,
  nameActiveHttpSpan,
  tagActiveSpanWithJob,
  traceExportersFromEnv,
  withJobId,
  withRequestSpan,
  withSpan,
  type SpanAttributes,
  type SpanOptions,
  type TraceCarrierReader,
  type TraceCarrierWriter,
  type TracingShutdown,
} from './tracing';
