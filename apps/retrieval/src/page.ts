/** The search page served at `/`: a query box, an image upload and a grid of thumbnails with scores. */
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
<div id="status" role="status"></div>
<div id="results"></div>
<script>
const results = document.getElementById('results');
const status = document.getElementById('status');
const k = () => Number(document.getElementById('k').value) || 12;
function show(data, took) {
  results.replaceChildren(...data.results.map((hit) => {
    const fig = document.createElement('figure');
    fig.className = 'hit';
    fig.dataset.id = hit.id;
    const img = document.createElement('img');
    img.src = hit.thumbnail; img.alt = hit.caption || hit.id; img.loading = 'lazy';
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
  status.textContent = 'searching…';
  const t0 = performance.now();
  try {
    const response = await fetch('/search', request);
    const data = await response.json();
    if (!response.ok) { status.textContent = 'error: ' + data.message; results.replaceChildren(); return; }
    show(data, Math.round(performance.now() - t0));
  } catch (e) { status.textContent = 'error: ' + e; }
}
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
