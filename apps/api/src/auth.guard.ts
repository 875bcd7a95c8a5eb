import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { KeyStore, Principal, Scope, bearerCredential, hasScope } from './keys';
import { ApiProblem } from './problem';

const SCOPE_METADATA = 'orchestra:scope';
const PUBLIC_METADATA = 'orchestra:public';

/**
 * The scope a route needs (on a handler or a controller). A route that declares neither a
 * scope nor {@link Public} needs `admin`: a route someone forgot to mark fails closed.
 */
export const RequireScope = (scope: Scope) => SetMetadata(SCOPE_METADATA, scope);

/** A route anyone may call without a key (health, the published schemas). */
export const Public = () => SetMetadata(PUBLIC_METADATA, true);

/** Where the guard leaves the authenticated caller on the request. */
const PRINCIPAL = Symbol('principal');
type AuthenticatedRequest = FastifyRequest & { [PRINCIPAL]?: Principal };

/** The authenticated caller of a route behind the guard (a handler parameter). */
export const Caller = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>()[PRINCIPAL];
  // Only a public route can get here without one, and public routes do not ask for a caller.
  if (!principal) throw new Error('@Caller() used on a route the auth guard does not cover');
  return principal;
});

export function insufficientScope(scope: Scope): ApiProblem {
  return new ApiProblem(
    403,
    'insufficient-scope',
    'Insufficient scope',
    `This API key lacks the "${scope}" scope this request needs; use a key with it, or ask an admin to issue one.`,
  );
}

/**
 * The one authentication and authorization point of the API (a global guard): reads the
 * bearer key, resolves it to its tenant and scopes, and checks the route's scope. 401 for a
 * missing, malformed, unknown, revoked or expired key; 403 for a key without the scope.
 * Which tenant's data a request may touch is decided from the caller it leaves on the
 * request, never from anything the client asserts.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: KeyStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_METADATA, targets)) return true;
    const scope = this.reflector.getAllAndOverride<Scope | undefined>(SCOPE_METADATA, targets) ?? 'admin';
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // A request with a body was authenticated before its body was read (authenticateBeforeBody).
    const principal = request[PRINCIPAL] ?? (await this.keys.authenticate(bearerCredential(request.headers.authorization)));
    if (!hasScope(principal, scope)) throw insufficientScope(scope);
    request[PRINCIPAL] = principal;
    return true;
  }
}

/**
 * A Fastify `preParsing` hook: a request that carries a body is authenticated before the
 * body is read, so a stranger without a valid key cannot make the API read and parse up
 * to ORCH_HTTP_MAX_READ_BYTES of it. (Every route that takes a body needs a key; the guard
 * still checks the route's scope, with the caller found here.) A refusal is answered here,
 * as the guard would answer it.
 */
export function authenticateBeforeBody(keys: KeyStore, refuse: (reply: FastifyReply, problem: ApiProblem, instance: string) => void) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const { headers } = request;
    const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
    if (!hasBody) return;
    try {
      (request as AuthenticatedRequest)[PRINCIPAL] = await keys.authenticate(bearerCredential(headers.authorization));
    } catch (error) {
      if (!(error instanceof ApiProblem)) throw error;
      // Once the reply is sent Fastify runs nothing further for the request: the body is never parsed.
      refuse(reply, error, request.url.split('?')[0]);
    }
  };
}
