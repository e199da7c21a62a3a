// The vbatch web UI: a hash-routed page over the HTTP API. The API key, when the server needs one,
// is kept in localStorage and sent as a Bearer token.
const view = document.getElementById("view");
const keyForm = document.getElementById("key-form");

const apiKey = () => localStorage.getItem("vbatchApiKey") || "";

async function api(path) {
  const res = await fetch(path, { headers: apiKey() ? { authorization: `Bearer ${apiKey()}` } : {} });
  if (res.status === 401) {
    keyForm.hidden = false;
    throw new Error("This server needs an API key: enter it above.");
  }
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const bytes = (n) => {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${u[i]}`;
};
const when = (iso) => new Date(iso).toLocaleString();

async function batchesPage() {
  const { batches } = await api("/api/v1/batches?pageSize=500");
  if (batches.length === 0) return `<h2>Batches</h2><p class="muted">No batches yet. Stage one with <code>vbatch data-staging create-batch-of-images</code>.</p>`;
  const rows = batches.map((b) => `<tr>
      <td><a href="#/batches/${esc(b.batchId)}">${esc(b.batchId)}</a></td><td>${esc(b.name)}</td><td>${b.type}</td>
      <td>${b.kind}</td><td>${b.fileCount}</td><td>${bytes(b.totalBytes)}</td><td>${when(b.createdAt)}</td><td>${when(b.expiresAt)}</td></tr>`);
  return `<h2>Batches</h2><table><thead><tr><th>Id</th><th>Name</th><th>Type</th><th>Kind</th><th>Files</th><th>Size</th>
    <th>Created</th><th>Expires</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

async function batchPage(id) {
  const b = await api(`/api/v1/batches/${encodeURIComponent(id)}`);
  const { files, nextPageToken } = await api(`/api/v1/batches/${encodeURIComponent(id)}/content?pageSize=200`);
  const rows = files.map((f) => `<tr><td>${esc(f.part)}</td><td>${esc(f.name)}</td><td>${bytes(f.sizeBytes)}</td>
      <td>${esc(f.contentType)}</td><td class="muted">${f.sha256.slice(0, 12)}</td></tr>`);
  return `<h2>Batch ${esc(b.batchId)}</h2>
    <p>${b.type}, ${b.fileCount} files, ${bytes(b.totalBytes)}; created ${when(b.createdAt)}, expires ${when(b.expiresAt)}</p>
    <table><thead><tr><th>Part</th><th>Name</th><th>Size</th><th>Type</th><th>sha256</th></tr></thead><tbody>${rows.join("")}</tbody></table>
    ${nextPageToken ? `<p class="muted">First 200 files shown.</p>` : ""}`;
}

async function render() {
  const [, page, id] = (location.hash || "#/batches").split("/");
  try {
    view.innerHTML = page === "batches" && id ? await batchPage(decodeURIComponent(id)) : await batchesPage();
  } catch (e) {
    view.innerHTML = `<p class="error">${esc(e.message)}</p>`;
  }
}

keyForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  localStorage.setItem("vbatchApiKey", document.getElementById("key-input").value);
  keyForm.hidden = true;
  render();
});
addEventListener("hashchange", render);
render();
