import { httpHandler } from '../../packages/http/handler';
import { openApiDocument } from '../../packages/http/openapi';
import { json } from '../../packages/http/response';
import { docsFunction } from '../../packages/http/routes/docs';

export const handler = httpHandler(docsFunction.routes, {
  'GET /v1/openapi.json': async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
});
