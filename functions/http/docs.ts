import { httpHandler } from '#http/handler';
import { openApiDocument } from '#http/openapi';
import { json } from '#http/response';
import { docsFunction } from '#http/routes/docs';

export const handler = httpHandler(docsFunction.routes, {
  'GET /v1/openapi.json': async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
});
