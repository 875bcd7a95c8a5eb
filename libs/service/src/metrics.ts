import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';
import { MetricConflictError } from './errors';

/** Prefix of every metric Orchestra's own code registers, so its series sort together. */
export const METRIC_PREFIX = 'orchestra_';

/**
 * The process-wide registry. A module-level singleton (rather than prom-client's global
 * `register`) so that /metrics serves exactly what Orchestra code registered.
 */
const registry = new Registry();
let defaultMetricsCollected = false;

/** The process's Prometheus registry, served by the ops server's `/metrics`. */
export function metricsRegistry(): Registry {
  return registry;
}

/**
 * Starts collecting Node's default metrics (CPU, memory, event-loop lag, GC) under their
 * standard names (`process_cpu_user_seconds_total`, `nodejs_heap_size_used_bytes`…), so
 * the usual Node.js dashboards find them. No `service` label is added: the scrape target
 * already says which service and pod a series came from, and a `service` label of our own
 * would collide with the Prometheus Operator's (which renames ours `exported_service`).
 * Safe to call more than once: the collectors are registered only the first time.
 */
export function initMetrics(): Registry {
  if (!defaultMetricsCollected) {
    collectDefaultMetrics({ register: registry });
    defaultMetricsCollected = true;
  }
  return registry;
}

/** Common fields of the metric helpers. `name` is given without the `orchestra_` prefix. */
export interface MetricOptions<L extends string> {
  /** Metric name, e.g. `steps_hired_total`; `orchestra_` is prepended unless already present. */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

/** Options of {@link histogram}: {@link MetricOptions} plus bucket bounds (seconds by convention). */
export interface HistogramOptions<L extends string> extends MetricOptions<L> {
  buckets?: number[];
}

/**
 * Returns the counter `orchestra_<name>`, creating it on first use. Two modules asking for
 * the same name share one counter; asking with a different type or labels throws
 * {@link MetricConflictError}, because silently diverging definitions corrupt the series.
 */
export function counter<L extends string = string>(options: MetricOptions<L>): Counter<L> {
  return getOrCreate(options, Counter, () => new Counter<L>(toConfig(options)));
}

/** Returns the gauge `orchestra_<name>`, creating it on first use (see {@link counter}). */
export function gauge<L extends string = string>(options: MetricOptions<L>): Gauge<L> {
  return getOrCreate(options, Gauge, () => new Gauge<L>(toConfig(options)));
}

/** Returns the histogram `orchestra_<name>`, creating it on first use (see {@link counter}). */
export function histogram<L extends string = string>(options: HistogramOptions<L>): Histogram<L> {
  return getOrCreate(options, Histogram, () => new Histogram<L>({ ...toConfig(options), ...(options.buckets ? { buckets: options.buckets } : {}) }));
}

function toConfig<L extends string>(options: MetricOptions<L>) {
  return {
    name: prefixed(options.name),
    help: options.help,
    labelNames: [...(options.labelNames ?? [])],
    registers: [registry],
  };
}

function prefixed(name: string): string {
  return name.startsWith(METRIC_PREFIX) ? name : `${METRIC_PREFIX}${name}`;
}

function getOrCreate<L extends string, M extends Metric<L>>(options: MetricOptions<L>, type: abstract new (...args: never[]) => M, create: () => M): M {
  const name = prefixed(options.name);
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return create();
  if (!(existing instanceof type)) {
    throw new MetricConflictError(`metric ${name} is already registered as a ${existing.constructor.name}`);
  }
  const existingLabels = [...((existing as unknown as { labelNames: string[] }).labelNames ?? [])].sort();
  const requested = [...(options.labelNames ?? [])].sort();
  if (existingLabels.join(',') !== requested.join(',')) {
    throw new MetricConflictError(`metric ${name} is already registered with labels [${existingLabels.join(', ')}], requested [${requested.join(', ')}]`);
  }
  return existing;
}
