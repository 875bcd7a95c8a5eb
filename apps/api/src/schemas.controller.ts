import { Controller, Get, Header, Param } from '@nestjs/common';
import { Public } from './auth.guard';
import { UnknownSchemaError, jsonSchema, schemaIds } from '@orchestra/schemas';
import { ApiProblem } from './problem';

/** The JSON Standardization Layer's public contract: the output schema of every capability. */
@Public()
@Controller('v1/schemas')
export class SchemasController {
  /** Every registered schema id, e.g. `data.financials@1`. */
  @Get()
  list(): { schemas: string[] } {
    return { schemas: schemaIds() };
  }

  /** One schema as JSON Schema (draft 2020-12). */
  @Get(':id')
  @Header('content-type', 'application/schema+json; charset=utf-8')
  get(@Param('id') id: string): Record<string, unknown> {
    try {
      return jsonSchema(id);
    } catch (error) {
      if (!(error instanceof UnknownSchemaError)) throw error;
      throw new ApiProblem(404, 'schema-not-found', 'Schema not found', `No schema with id "${id}"; GET /v1/schemas lists the ids.`);
    }
  }
}
