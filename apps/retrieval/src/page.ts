/**
 * The search page served at `/`: a query box, an image upload and a grid of thumbnails with
 * scores. On a server with a token the page sends `Authorization: Bearer` on every call
 * (thumbnails too, fetched as blobs); it takes the token from the address's fragment
 * (`/#token=...`, never sent to the server, removed from the address bar) or from the field it
 * shows after a 401, and keeps it in sessionStorage (this tab only).
 */
export const SEARCH_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tessera search</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 960px; padding: 0 1rem; }
  form { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
  input[type=text] { flex: 1; min-width: 16rem; padding: .5rem; font-size: 1rem; }
  #status { color: #666; margin: .75rem 0; min-height: 1.2em; }
  #results { display: grid; grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); gap: .75rem; }
  figure { margin: 0; border: 1px solid #ddd; border-radius: 6px; padding: .5rem; text-align: center; }
  figure img { width: 120px; height: 120px; object-fit: contain; }
  figcaption { font-size: .8rem; word-break: break-word; }
  .score { font-variant-numeric: tabular-nums; color: #036; }
</style>
</head>
<body>
<h1>Tessera image search</h1>
<form id="text-form">
  <input id="query" type="text" name="text" placeholder="a red heart · 红心" maxlength="512" autofocus>
  <input id="k" type="number" name="k" value="12" min="1" max="100" style="width:4rem">
  <button type="submit">Search</button>
</form>
<form id="image-form">
  <label>or search by image: <input id="upload" type="file" name="image" accept="image/*"></label>
</form>
<form id="token-form" hidden>
  <label>this server needs its token: <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">Use token</button>
</form>
<div id="status" role="status"></div>
<div id="results"></div>
<script>
const results = document.getElementById('results');
const status = document.getElementById('status');
const k = () => Number(document.getElementById('k').value) || 12;
const tokenForm = document.getElementById('token-form');
const TOKEN_KEY = 'tessera-token';
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  sessionStorage.setItem(TOKEN_KEY, fromHash);
  history.replaceState(null, '', location.pathname + location.search);
}
const token = () => sessionStorage.getItem(TOKEN_KEY);
const authorized = (headers = {}) => (token() ? { ...headers, authorization: 'Bearer ' + token() } : headers);
async function thumbnail(img, url) {
  if (!token()) { img.src = url; return; }
  const response = await fetch(url, { headers: authorized() });
  if (response.ok) img.src = URL.createObjectURL(await response.blob());
}
let last = null;
function show(data, took) {
  results.replaceChildren(...data.results.map((hit) => {
    const fig = document.createElement('figure');
    fig.className = 'hit';
    fig.dataset.id = hit.id;
    const img = document.createElement('img');
    img.alt = hit.caption || hit.id; img.loading = 'lazy';
    thumbnail(img, hit.thumbnail);
    const cap = document.createElement('figcaption');
    const score = document.createElement('div');
    score.className = 'score'; score.textContent = hit.score.toFixed(3);
    const name = document.createElement('div');
    name.textContent = hit.caption || hit.id;
    cap.append(score, name);
    fig.append(img, cap);
    return fig;
  }));
  status.textContent = data.results.length + ' results in ' + took + ' ms';
}
async function run(request) {
  last = request;
  status.textContent = 'searching…';
  const t0 = performance.now();
  try {
    const response = await fetch('/search', { ...request, headers: authorized(request.headers) });
    const data = await response.json();
    if (response.status === 401) { tokenForm.hidden = false; document.getElementById('token').focus(); }
    if (!response.ok) { status.textContent = 'error: ' + data.message; results.replaceChildren(); return; }
    show(data, Math.round(performance.now() - t0));
  } catch (e) { status.textContent = 'error: ' + e; }
}
tokenForm.addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, document.getElementById('token').value.trim());
  tokenForm.hidden = true;
  if (last) run(last);
});
document.getElementById('text-form').addEventListener('submit', (event) => {
  event.preventDefault();
  run({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: document.getElementById('query').value, k: k() }) });
});
document.getElementById('upload').addEventListener('change', (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append('image', file); form.append('k', String(k()));
  run({ method: 'POST', body: form });
});
</script>
</body>
</html>
`;
