import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '../auth.guard';
import { RouteTable } from '../routes';
import { DOCS_PAGE } from './docs-page';
import { buildOpenApi, type OpenApiDocument } from './openapi';

/** The API's own description: the OpenAPI document and a page that renders it. Public, like the schemas. */
@Public()
@Controller()
export class OpenApiController {
  private document?: OpenApiDocument;

  constructor(private readonly routes: RouteTable) {}

  /** Built on first request, when every route has been registered; the routes never change after. */
  @Get('openapi.json')
  spec(): OpenApiDocument {
    this.document ??= buildOpenApi(this.routes.registered);
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
  docs(): string {
    return DOCS_PAGE;
  }
}
