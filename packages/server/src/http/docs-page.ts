/**
 * A small, dependency-free API reference page: it fetches `openapi.json` and renders every
 * operation with its access rule, parameters, body and responses. Self-contained because the
 * server may run where no CDN is reachable.
 */
/** The page's one inline script (its hash is in the page's Content-Security-Policy). */
export const DOCS_PAGE_SCRIPT = `
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
fetch('openapi.json').then((r) => r.json()).then((doc) => {
  document.getElementById('desc').textContent = doc.info.description + ' — version ' + doc.info.version;
  const byTag = {};
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const tag = (op.tags && op.tags[0]) || 'other';
    (byTag[tag] = byTag[tag] || []).push({ path, method, op });
  }
  let html = '';
  for (const [tag, list] of Object.entries(byTag)) {
    html += '<h2>' + esc(tag) + '</h2>';
    for (const { path, method, op } of list) {
      const a = op['x-trellis-access'] || {};
      const access = a.kind === 'workflow' || a.kind === 'run' ? a.role + ' on the ' + a.kind : a.kind;
      html += '<details><summary><span class="m ' + method + '">' + (op['x-trellis-websocket'] ? 'ws' : method) + '</span><span class="p">' + esc(path) +
        '</span><span>' + esc(op.summary || '') + '</span><span class="acc">' + esc(access) + '</span></summary><section>';
      if (op.description) html += '<p>' + esc(op.description) + '</p>';
      if (op.parameters && op.parameters.length) html += '<h4>Parameters</h4><ul>' + op.parameters.map((p) =>
        '<li><code>' + esc(p.name) + '</code> (' + esc(p.in) + (p.required ? ', required' : '') + ') ' + esc(p.description || '') + '</li>').join('') + '</ul>';
      if (op.requestBody) html += '<h4>Body</h4><pre>' + esc(JSON.stringify(op.requestBody.content['application/json'].schema, null, 2)) + '</pre>';
      html += '<h4>Responses</h4><ul>' + Object.entries(op.responses).map(([s, r]) => '<li><b>' + esc(s) + '</b> ' + esc(r.description) + '</li>').join('') + '</ul>';
      html += '</section></details>';
    }
  }
  document.getElementById('root').innerHTML = html;
}).catch((e) => { document.getElementById('root').textContent = 'Could not load openapi.json: ' + e; });
`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Trellis API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1d2430;background:#f7f8fa}
header{background:#1d2430;color:#fff;padding:16px 24px}header h1{margin:0;font-size:20px}
main{max-width:1000px;margin:0 auto;padding:16px 24px}
details{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:8px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:center}
.m{font-weight:700;width:64px;text-transform:uppercase;font-family:monospace}
.get{color:#1a7f37}.post{color:#0969da}.put{color:#9a6700}.delete{color:#cf222e}
.p{font-family:monospace}.acc{margin-left:auto;font-size:12px;color:#57606a}
section{padding:0 12px 12px}pre{background:#f3f4f6;padding:8px;overflow:auto;max-height:320px;font-size:12px}
h2{font-size:16px;margin-top:24px;text-transform:capitalize}
</style></head>
<body><header><h1>Trellis API</h1><div id="desc"></div></header><main id="root">Loading…</main>
<script>${DOCS_PAGE_SCRIPT}</script></body></html>
`;
