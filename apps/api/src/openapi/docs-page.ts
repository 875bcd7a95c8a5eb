/**
 * A small page that renders /openapi.json: every operation with its scope, parameters,
 * request body, responses and problem types, and the component schemas. Self-contained
 * (no CDN): the API may run where there is no internet.
 */
export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orchestra API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:960px;padding:1em 2em;color:#222}
h2{border-bottom:1px solid #ccc;margin-top:2em}details{margin:.4em 0;border:1px solid #ddd;border-radius:4px;padding:.3em .6em}
summary{cursor:pointer}code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:.6em;overflow:auto;max-height:30em}
.m{display:inline-block;min-width:4.5em;font-weight:bold}.get{color:#06c}.post{color:#080}.put{color:#a60}.delete{color:#c00}.s{color:#777}
</style></head><body><h1>Orchestra API</h1><p id="info">Loading <a href="/openapi.json">/openapi.json</a>…</p><div id="ops"></div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const json = (v) => '<pre>' + esc(JSON.stringify(v, null, 2)) + '</pre>';
fetch('/openapi.json').then((r) => r.json()).then((spec) => {
  document.getElementById('info').innerHTML = esc(spec.info.description) + ' <a href="/openapi.json">openapi.json</a>';
  let html = '';
  for (const tag of spec.tags) {
    let ops = '';
    for (const [path, item] of Object.entries(spec.paths)) for (const [method, op] of Object.entries(item)) {
      if (!op.tags.includes(tag.name)) continue;
      ops += '<details><summary><span class="m ' + method + '">' + method.toUpperCase() + '</span> <code>' + esc(path) + '</code> ' + esc(op.summary) +
        ' <span class="s">(' + (op['x-required-scope'] === 'public' ? 'public' : 'scope ' + esc(op['x-required-scope'])) + ')</span></summary>' +
        (op.description ? '<p>' + esc(op.description) + '</p>' : '') +
        (op.parameters.length ? '<h4>Parameters</h4>' + op.parameters.map((p) => '<div><code>' + esc(p.name) + '</code> (' + p.in + (p.required ? ', required' : '') + ') ' + esc(p.description) + '</div>').join('') : '') +
        (op.requestBody ? '<h4>Body</h4>' + json(op.requestBody.content['application/json'].schema) : '') +
        '<h4>Responses</h4>' + Object.entries(op.responses).map(([s, r]) => '<div><b>' + s + '</b> ' + esc(r.description) + (r.content ? ' <span class="s">' + Object.keys(r.content).map(esc).join(', ') + '</span>' : '') + '</div>').join('') +
        '</details>';
    }
    if (ops) html += '<h2>' + esc(tag.name) + '</h2>' + ops;
  }
  html += '<h2>Schemas</h2>' + Object.entries(spec.components.schemas).map(([n, s]) => '<details id="' + esc(n) + '"><summary><code>' + esc(n) + '</code></summary>' + json(s) + '</details>').join('');
  document.getElementById('ops').innerHTML = html;
}, (e) => { document.getElementById('info').textContent = 'Could not load /openapi.json: ' + e; });
</script></body></html>
`;
