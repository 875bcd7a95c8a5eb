/**
 * The API's routes as registered with Fastify, so a request for a known path with a
 * method it does not serve is told 405 and which methods it has (`Allow`), rather than
 * 404 "no such endpoint".
 */
export class RouteTable {
  private readonly routes: Array<{ method: string; pattern: RegExp }> = [];
  /** Every route as registered, for the OpenAPI document (openapi/openapi.ts). */
  readonly registered: Array<{ method: string; url: string }> = [];

  /** Records a route: its method(s) and Fastify URL (`/v1/jobs/:id/events`). */
  add(method: string | readonly string[], url: string): void {
    const source = url
      .split('/')
      .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    const pattern = new RegExp(`^${source}/?$`);
    for (const m of typeof method === 'string' ? [method] : method) {
      this.routes.push({ method: m.toUpperCase(), pattern });
      this.registered.push({ method: m.toUpperCase(), url });
    }
  }

  /** The methods served at `path` (without query), sorted; empty when no route matches it. */
  allowed(path: string): string[] {
    return [...new Set(this.routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
  }
}
