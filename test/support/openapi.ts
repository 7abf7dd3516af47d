// Checks REST responses against the OpenAPI document the server publishes: the operation for a
// request, and the schema of the status and content type it answered (JSON Schema 2020-12).
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

export type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }>; security?: unknown[] }>>;
  components: { schemas: Record<string, unknown> };
};

/** `/api/v1/files/f1` → `/api/v1/files/{file_id}` (the document's template). */
export const templateOf = (doc: OpenApi, method: string, path: string): string | undefined => {
  const bare = path.split('?')[0] ?? path;
  const segments = bare.split('/');
  return Object.keys(doc.paths).find((t) => {
    if (doc.paths[t]?.[method.toLowerCase()] === undefined) return false;
    const ts = t.split('/');
    return ts.length === segments.length && ts.every((s, i) => (s.startsWith('{') && segments[i] !== '') || s === segments[i]);
  });
};

const escape = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

export const responseChecker = (doc: OpenApi) => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  (formats as unknown as { default: (a: Ajv2020) => void }).default(ajv);
  ajv.addSchema(doc, 'openapi.json');
  /** Undefined when the response matches its schema, else why not. */
  return (method: string, template: string, status: number, contentType: string | null, body: unknown): string | undefined => {
    const op = doc.paths[template]?.[method.toLowerCase()];
    if (op === undefined) return `no operation ${method} ${template}`;
    const key = String(status) in op.responses ? String(status) : `${String(status)[0]}XX`;
    const response = op.responses[key];
    if (response === undefined) return `${method} ${template}: status ${status} is not documented`;
    const type = (contentType ?? '').split(';')[0]?.trim() ?? '';
    if (response.content?.[type] === undefined) return `${method} ${template} ${status}: content type ${type} is not documented`;
    const ref = `openapi.json#/paths/${escape(template)}/${method.toLowerCase()}/responses/${key}/content/${escape(type)}/schema`;
    const validate = ajv.getSchema(ref);
    if (validate === undefined) return `no schema at ${ref}`;
    return validate(body) ? undefined : `${method} ${template} ${status}: ${ajv.errorsText(validate.errors)}`;
  };
};
