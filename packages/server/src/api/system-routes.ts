/**
 * @module api/system-routes
 * Unauthenticated operational routes: /healthz, /metrics (Prometheus), /openapi.json and /docs.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { AppDeps } from './app-deps.ts';

export const systemRoutes: FastifyPluginAsyncTypebox<AppDeps> = async (app, deps) => {
  app.get(
    '/healthz',
    {
      schema: {
        summary: 'Liveness and readiness',
        tags: ['system'],
        security: [],
        response: {
          200: Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok') }),
          503: Type.Object({ status: Type.Literal('unavailable'), reason: Type.String() }),
        },
      },
    },
    async (_request, reply) => {
      if (deps.isReady && !deps.isReady())
        return reply.code(503).send({ status: 'unavailable', reason: 'shutting down' });
      try {
        await sql`select 1`.execute(deps.database.db);
      } catch {
        return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
      }
      return { status: 'ok' as const, database: 'ok' as const };
    },
  );

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    if (!deps.metrics) return reply.code(404).send();
    reply.header('content-type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/docs', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header(
      'content-security-policy',
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
    );
    return DOCS_PAGE;
  });
};

/** A small self-contained reference page built from /openapi.json; no CDN, so it works offline. */
const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faxwire API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{margin-top:2rem;border-bottom:1px solid #ddd}.op{margin:1rem 0;padding:.5rem 1rem;border-left:4px solid #888;background:#f7f7f7}
.m{font:bold 13px monospace;display:inline-block;width:4.5rem}.GET{color:#06c}.POST{color:#080}.PATCH{color:#a60}.DELETE{color:#c00}
code,pre{font:13px monospace}pre{background:#fff;border:1px solid #eee;padding:.5rem;overflow:auto;max-height:20rem}
</style></head><body>
<h1>Faxwire API</h1>
<p>Authenticate with <code>Authorization: Bearer fw_…</code>. Errors are <code>{"error":{"code","message","details"}}</code>.
The machine-readable description is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
<div id="ops">Loading…</div>
<script>
fetch('/openapi.json').then(r => r.json()).then(spec => {
  const root = document.getElementById('ops'); root.textContent = '';
  const byTag = {};
  for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
    const tag = (op.tags && op.tags[0]) || 'other'; (byTag[tag] ||= []).push([method.toUpperCase(), path, op]);
  }
  for (const [tag, ops] of Object.entries(byTag)) {
    const h = document.createElement('h2'); h.textContent = tag; root.append(h);
    for (const [method, path, op] of ops) {
      const d = document.createElement('details'); d.className = 'op';
      const s = document.createElement('summary');
      s.innerHTML = '<span class="m ' + method + '"></span><code></code> — <span></span>';
      s.children[0].textContent = method; s.children[1].textContent = path; s.children[2].textContent = op.summary || '';
      const pre = document.createElement('pre');
      pre.textContent = JSON.stringify({ description: op.description, parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2);
      d.append(s, pre); root.append(d);
    }
  }
});
</script></body></html>`;
