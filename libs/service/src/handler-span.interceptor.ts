import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { lastValueFrom, Observable } from 'rxjs';
import { withRequestSpan, withSpan } from './tracing';

/**
 * Runs every controller handler of an HTTP app in a span `<Controller>.<handler>`, the child
 * of the request's server span and the parent of what the handler does (its publishes):
 * the framework's part of the request, as Fastify sees it, next to Node's HTTP span.
 * (No Fastify instrumentation is installed; this is the same span from Nest's side.)
 */
@Injectable()
export class HandlerSpanInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const name = `${context.getClass().name}.${context.getHandler().name}`;
    const request = context.switchToHttp().getRequest<{ routeOptions?: { url?: string }; method?: string }>();
    const attributes = {
      'code.function.name': name,
      'http.route': request?.routeOptions?.url,
      'http.request.method': request?.method,
    };
    return new Observable((subscriber) => {
      withRequestSpan(() => withSpan(name, attributes, () => lastValueFrom(next.handle(), { defaultValue: undefined }))).then(
        (value) => {
          subscriber.next(value);
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
    });
  }
}
