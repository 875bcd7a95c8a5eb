import { counter, histogram } from '@orchestra/service';

const requests = counter({
  name: 'api_requests_total',
  help: 'HTTP requests served by the API, by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
});

const duration = histogram({
  name: 'api_request_duration_seconds',
  help: 'Time to serve an HTTP request (for SSE: how long the stream stayed open)',
  labelNames: ['method', 'route'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60, 600],
});

/**
 * Records one served request. `route` is the route template (`/v1/jobs/:id`), never the
 * raw path, so job ids do not explode the series count.
 */
export function recordRequest(method: string, route: string, status: number, seconds: number): void {
  requests.inc({ method, route, status: String(status) });
  duration.observe({ method, route }, seconds);
}

const connectionErrors = counter({
  name: 'api_connection_errors_total',
  help: 'Requests answered before they could be read: 431 (head too large), 408 (too slow), 400 (not HTTP), by status',
  labelNames: ['status'] as const,
});

/** Records a request refused at the connection (Node's clientError), which no route or hook sees. */
export function recordConnectionError(status: number): void {
  connectionErrors.inc({ status: String(status) });
}
