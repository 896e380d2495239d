// API token box in the header: shown only when /api/catalog says auth_required; the token lives in sessionStorage.
import * as api from "./api.js";

const $ = (id) => document.getElementById(id);

/** wire the header's token form; asks once, and again when the server refuses the token (401) */
export async function mountTokenBox() {
  const box = $("token-box");
  if (!box) return;
  const input = $("token-input");
  const state = $("token-state");
  const show = (asking, note = "") => {
    box.hidden = false;
    box.classList.toggle("asking", asking);
    input.hidden = !asking;
    $("token-save").textContent = asking ? "Save" : "Change";
    state.textContent = note || (asking ? "" : "API token set");
    document.body.dataset.auth = asking ? "missing" : "set";
  };
  box.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (input.hidden) { show(true); input.focus(); return; }
    const token = input.value.trim();
    if (!token) { input.focus(); return; }
    api.setToken(token);
    input.value = "";
    show(false);
    window.dispatchEvent(new CustomEvent("nnplay:token-saved"));
  });
  window.addEventListener("nnplay:unauthorized", () => {
    api.setToken("");
    show(true, "the server refused the token: enter it again");
  });
  let catalog;
  try { catalog = await api.getCatalog(); } catch { return; }
  if (!catalog.auth_required) { box.hidden = true; document.body.dataset.auth = "off"; return; }
  if (api.getToken()) show(false); else show(true, "this server needs its API token to train");
}
