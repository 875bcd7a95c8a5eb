import { z } from 'zod';
import { PROBLEM_TYPE_BASE } from '../problem';
import { ROUTE_DOCS, type NamedSchema, type ParamDoc, type RouteDoc } from './route-docs';

/** A route as Fastify registered it. */
export interface RegisteredRoute {
  readonly method: string;
  readonly url: string;
}

/** Routes the API registers that {@link ROUTE_DOCS} does not describe: the spec would be incomplete. */
export class UndocumentedRouteError extends Error {
  override readonly name = 'UndocumentedRouteError';
  readonly retryable = false;
  constructor(readonly routes: readonly string[]) {
    super(
      `These routes are registered but not documented: ${routes.join(', ')}. ` +
        'Add an entry for each to ROUTE_DOCS in apps/api/src/openapi/route-docs.ts (its body, responses and problems as zod schemas).',
    );
  }
}

/** Problems any authenticated route may answer (auth.guard.ts, keys.ts). */
const AUTH_PROBLEMS = {
  401: ['missing-credentials', 'malformed-credentials', 'invalid-api-key', 'api-key-revoked', 'api-key-expired'],
  403: ['insufficient-scope'],
};
/** Problems of reading a JSON body (body.ts, submission.ts). */
const BODY_PROBLEMS = {
  400: ['validation-error', 'malformed-body', 'json-too-deep', 'forbidden-key'],
  413: ['payload-too-large'],
  415: ['unsupported-media-type'],
};

/** The schema of every error body (problem.ts's ProblemDetails). */
const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ pointer: z.string().optional(), header: z.string().optional(), parameter: z.string().optional(), detail: z.string() })).optional(),
});

type JsonSchema = Record<string, unknown>;

/** `/v1/jobs/:id` → `/v1/jobs/{id}` */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The routes worth documenting: HEAD twins of GET routes are Fastify's, not ours. */
export function documentedRoutes(routes: readonly RegisteredRoute[]): string[] {
  const keys = routes.filter((r) => r.method.toUpperCase() !== 'HEAD').map((r) => `${r.method.toUpperCase()} ${r.url.length > 1 ? r.url.replace(/\/$/, '') : r.url}`);
  return [...new Set(keys)].sort();
}

function plainJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** Collects named schemas into components, refusing one name for two different schemas. */
class Components {
  private readonly input = z.registry<{ id: string }>();
  private readonly output = z.registry<{ id: string }>();
  private readonly seen = new Map<string, z.ZodType>();

  ref(named: NamedSchema, io: 'input' | 'output'): JsonSchema {
    const earlier = this.seen.get(named.name);
    if (earlier && earlier !== named.schema) throw new Error(`Two different schemas are named "${named.name}" in ROUTE_DOCS; give each its own name.`);
    if (!earlier) {
      this.seen.set(named.name, named.schema);
      (io === 'input' ? this.input : this.output).add(named.schema, { id: named.name });
    }
    return { $ref: `#/components/schemas/${named.name}` };
  }

  schemas(): Record<string, JsonSchema> {
    const out: Record<string, JsonSchema> = { Problem: plainJsonSchema(ProblemSchema, 'output') };
    for (const [registry, io] of [
      [this.input, 'input'],
      [this.output, 'output'],
    ] as const) {
      const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
      for (const [name, schema] of Object.entries(schemas)) {
        const { $schema: _s, $id: _id, ...rest } = schema as JsonSchema;
        out[name] = rest;
      }
    }
    return out;
  }
}

function parameters(where: 'path' | 'query' | 'header', params: Readonly<Record<string, ParamDoc>> | undefined) {
  return Object.entries(params ?? {}).map(([name, p]) => ({
    name,
    in: where,
    description: p.description,
    required: where === 'path' ? true : (p.required ?? false),
    schema: plainJsonSchema(p.schema, 'input'),
  }));
}

/** The problem types of a route by status: its own, and those of authentication and bodies. */
export function routeProblems(doc: RouteDoc): Record<number, string[]> {
  const merged: Record<number, string[]> = {};
  const add = (problems: Readonly<Record<number, readonly string[]>>) => {
    for (const [status, kinds] of Object.entries(problems)) merged[Number(status)] = [...new Set([...(merged[Number(status)] ?? []), ...kinds])];
  };
  if (doc.scope !== 'public') add(AUTH_PROBLEMS);
  if (doc.body) add(BODY_PROBLEMS);
  add(doc.problems ?? {});
  add({ 500: ['internal-error'] });
  return merged;
}

function problemResponse(kinds: readonly string[]) {
  return {
    description: `Problem: ${kinds.join(', ')}`,
    content: {
      'application/problem+json': {
        schema: { allOf: [{ $ref: '#/components/schemas/Problem' }, { properties: { type: { enum: kinds.map((k) => `${PROBLEM_TYPE_BASE}${k}`) } } }] },
      },
    },
  };
}

function operation(key: string, doc: RouteDoc, components: Components) {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(doc.responses)) {
    const media = response.contentType ?? 'application/json';
    responses[status] = {
      description: response.description,
      ...(response.headers ? { headers: Object.fromEntries(Object.entries(response.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }])) } : {}),
      ...(response.body ? { content: { [media]: { schema: components.ref(response.body, 'output') } } } : response.contentType ? { content: { [media]: {} } } : {}),
    };
  }
  for (const [status, kinds] of Object.entries(routeProblems(doc))) responses[status] = problemResponse(kinds);
  return {
    operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/_$/, ''),
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    'x-required-scope': doc.scope,
    security: doc.scope === 'public' ? [] : [{ bearer: [] }],
    parameters: [...parameters('path', doc.path), ...parameters('query', doc.query), ...parameters('header', doc.headers)],
    ...(doc.body ? { requestBody: { required: doc.body.required, content: { 'application/json': { schema: components.ref(doc.body, 'input') } } } } : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the routes the API registered, every body and response
 * generated from the zod schemas the handlers use. Throws {@link UndocumentedRouteError}
 * when a registered route has no entry in `docs`.
 */
export function buildOpenApi(routes: readonly RegisteredRoute[], docs: Readonly<Record<string, RouteDoc>> = ROUTE_DOCS, version = '1') {
  const keys = documentedRoutes(routes);
  const missing = keys.filter((key) => !docs[key]);
  if (missing.length > 0) throw new UndocumentedRouteError(missing);
  const components = new Components();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const key of keys) {
    const [method, url] = key.split(' ');
    (paths[openApiPath(url)] ??= {})[method.toLowerCase()] = operation(key, docs[key], components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Orchestra API',
      version,
      description:
        'One goal in, a verified result out: Orchestra plans it, hires Bittensor miners and gateways, checks every answer and streams progress. ' +
        'Every error is RFC 9457 application/problem+json whose `type` names the condition. Besides the problems listed per route, any request may be ' +
        'answered 404 `not-found`, 405 `method-not-allowed` (with Allow), 408 `request-timeout`, 414 `uri-too-long` or 431 `headers-too-large`.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    servers: [{ url: '/' }],
    tags: [{ name: 'jobs' }, { name: 'usage' }, { name: 'admin' }, { name: 'subnets' }, { name: 'schemas' }, { name: 'health' }, { name: 'docs' }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An Orchestra API key: `Authorization: Bearer orch_<id>_<secret>`.' } },
      schemas: components.schemas(),
    },
  };
}

export type OpenApiDocument = ReturnType<typeof buildOpenApi>;
