/**
 * The API reference page at /docs on the local stack: the OpenAPI document the API serves
 * (/v1/openapi.json), rendered in the browser without a library. `outline` turns the document
 * into what the page shows (and is what the tests read); `render` draws it. Scripts run only
 * from this origin (the console's CSP), so this file is static and builds the page with DOM
 * calls, never HTML strings.
 */

const methods = ['get', 'put', 'post', 'patch', 'delete'];

/** The name a `$ref` points at (`#/components/schemas/Name` → `Name`), or undefined. */
export function refName(schema) {
  return typeof schema?.$ref === 'string' ? schema.$ref.split('/').at(-1) : undefined;
}

/** The error codes a problem response declares (its `code` enum), if any. */
function problemCodes(schema) {
  const parts = schema?.allOf ?? [];
  return parts.flatMap((part) => part?.properties?.code?.enum ?? []);
}

/** The document as the page shows it: tags in the document's order, each with its operations. */
export function outline(doc) {
  const byTag = new Map((doc.tags ?? []).map((tag) => [tag.name, { ...tag, operations: [] }]));
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, { name: tag, operations: [] });
      const body = op.requestBody?.content ?? {};
      byTag.get(tag).operations.push({
        id: op.operationId ?? `${method}-${path}`,
        method,
        path,
        summary: op.summary ?? '',
        authenticated: (op.security ?? doc.security ?? []).length > 0,
        parameters: (op.parameters ?? []).map((p) => ({
          name: p.name,
          in: p.in,
          required: Boolean(p.required),
          description: p.description ?? '',
          schema: p.schema,
        })),
        requestBody: Object.entries(body).map(([type, media]) => ({ type, schema: media.schema })),
        responses: Object.entries(op.responses ?? {}).map(([status, res]) => {
          const [type, media] = Object.entries(res.content ?? {})[0] ?? [];
          return { status, description: res.description ?? '', type, schema: media?.schema, codes: problemCodes(media?.schema) };
        }),
      });
    }
  }
  return [...byTag.values()].filter((tag) => tag.operations.length > 0);
}

function el(name, props = {}, ...children) {
  const node = document.createElement(name);
  Object.assign(node, props);
  for (const child of children.flat()) if (child !== undefined) node.append(child);
  return node;
}

/** A schema as a link to its component, or its JSON. */
function schemaView(schema) {
  const name = refName(schema);
  if (name) return el('a', { href: `#schema-${name}`, textContent: name });
  return el('pre', { textContent: JSON.stringify(schema, null, 2) });
}

function operationView(op) {
  return el(
    'details',
    { id: op.id },
    el(
      'summary',
      {},
      el('span', { className: 'method', textContent: op.method }),
      el('code', { textContent: op.path }),
      ` ${op.summary}`,
    ),
    el('p', { textContent: op.authenticated ? 'Needs a bearer credential.' : 'No credential needed.' }),
    op.parameters.length
      ? el(
          'table',
          {},
          el('caption', { textContent: 'Parameters' }),
          el(
            'tr',
            {},
            ['name', 'in', 'required', 'schema', 'description'].map((h) => el('th', { textContent: h })),
          ),
          op.parameters.map((p) =>
            el(
              'tr',
              {},
              el('td', {}, el('code', { textContent: p.name })),
              el('td', { textContent: p.in }),
              el('td', { textContent: p.required ? 'yes' : 'no' }),
              el('td', {}, schemaView(p.schema)),
              el('td', { textContent: p.description }),
            ),
          ),
        )
      : undefined,
    op.requestBody.map((b) => el('div', {}, el('h4', { textContent: `Request body (${b.type})` }), schemaView(b.schema))),
    el('h4', { textContent: 'Responses' }),
    el(
      'ul',
      {},
      op.responses.map((r) =>
        el(
          'li',
          {},
          el('strong', { textContent: r.status }),
          ` ${r.description} `,
          r.codes.length === 0 && r.schema ? schemaView(r.schema) : undefined,
        ),
      ),
    ),
  );
}

/** Draws the whole page into `root`. */
export function render(doc, root) {
  const tags = outline(doc);
  const schemas = Object.entries(doc.components?.schemas ?? {});
  // replaceChildren takes nodes, not arrays: `el` flattens them.
  root.replaceChildren(
    ...[
      el('h1', { textContent: `${doc.info?.title ?? 'API'} ${doc.info?.version ?? ''}` }),
      el('p', { textContent: doc.info?.description ?? '' }),
      el('p', {}, 'The document itself: ', el('a', { href: '/v1/openapi.json', textContent: '/v1/openapi.json' })),
      el(
        'nav',
        {},
        el(
          'ul',
          {},
          tags.map((t) => el('li', {}, el('a', { href: `#tag-${t.name}`, textContent: t.name }))),
          el('li', {}, el('a', { href: '#schemas', textContent: 'schemas' })),
        ),
      ),
      tags.map((t) =>
        el(
          'section',
          { id: `tag-${t.name}` },
          el('h2', { textContent: t.name }),
          el('p', { textContent: t.description ?? '' }),
          t.operations.map(operationView),
        ),
      ),
      el(
        'section',
        { id: 'schemas' },
        el('h2', { textContent: 'Schemas' }),
        schemas.map(([name, schema]) =>
          el(
            'details',
            { id: `schema-${name}` },
            el('summary', {}, el('code', { textContent: name })),
            el('pre', { textContent: JSON.stringify(schema, null, 2) }),
          ),
        ),
      ),
    ].flat(),
  );
  // A link to a schema opens it.
  const target = location.hash && document.getElementById(location.hash.slice(1));
  if (target instanceof HTMLDetailsElement) target.open = true;
}

if (typeof document !== 'undefined') {
  const root = document.getElementById('reference');
  fetch('/v1/openapi.json')
    .then((res) => (res.ok ? res.json() : Promise.reject(new Error(`/v1/openapi.json answered ${res.status}`))))
    .then((doc) => render(doc, root))
    .catch((err) =>
      root.replaceChildren(el('h1', { textContent: 'API reference' }), el('p', { role: 'alert', textContent: err.message })),
    );
  addEventListener('hashchange', () => {
    const target = document.getElementById(location.hash.slice(1));
    if (target instanceof HTMLDetailsElement) target.open = true;
  });
}
