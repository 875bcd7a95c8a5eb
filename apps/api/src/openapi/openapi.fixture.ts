import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiPath } from './openapi';

/** `~` and `/` escaped for a JSON pointer segment. */
const segment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * Validates answers against an OpenAPI document the API served: the schema of a route's
 * response for a status and media type, its `$ref`s resolved within the document.
 */
export function specValidator(spec: object) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(spec, 'spec');
  /** `route` is `METHOD /fastify/url`; undefined when the body is valid, else ajv's errors. */
  return (route: string, status: number, media: string, body: unknown) => {
    const [method, url] = route.split(' ');
    const pointer = `spec#/paths/${segment(openApiPath(url))}/${method.toLowerCase()}/responses/${status}/content/${segment(media)}/schema`;
    const validate = ajv.getSchema(pointer) ?? ajv.compile({ $ref: pointer });
    return validate(body) ? undefined : validate.errors;
  };
}
