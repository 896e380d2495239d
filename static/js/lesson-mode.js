// lesson mode: a teacher's link hides controls and shows a title and a task above the playground.
// /?hide=optimizer,dataset&title=...&task=...#s=... (the query string survives the page's own #s= updates)


/** {hide: [names], title, task} from the page's query string (or its hash, for links that put them there) */
export function readLesson(loc = window.location) {
  const q = new URLSearchParams(loc.search);
  const h = new URLSearchParams(loc.hash.slice(1));
  const get = (k) => q.get(k) ?? h.get(k);
  const hide = (get("hide") || "").split(",").map((t) => t.trim()).filter(Boolean);
  return { hide, title: get("title") || "", task: get("task") || "" };
}

/** hide every element marked data-hide with one of the names; show the banner when there is a title or task */
export function applyLesson({ hide, title, task }, root = document) {
  for (const node of root.querySelectorAll("[data-hide]")) {
    const names = node.dataset.hide.split(/\s+/);
    if (names.some((n) => hide.includes(n))) node.hidden = true;
  }
  const banner = root.getElementById("lesson-banner");
  if (title || task) {
    root.getElementById("lesson-title").textContent = title;
    root.getElementById("lesson-task").textContent = task;
    banner.hidden = false;
  }
  if (hide.length || title || task) document.body.dataset.lesson = hide.join(",") || "true";
}


