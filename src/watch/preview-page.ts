/** A clapperboard, in the page's colours. */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect x="3" y="12" width="26" height="17" rx="2" fill="#e9e9ec"/><path d="M3 7l24-4 1.2 6L4.2 13z" fill="#c99a2e"/><path d="M9 6l3 5M15 5l3 5M21 4l3 5" stroke="#16171b" stroke-width="2"/><rect x="7" y="17" width="18" height="2" fill="#16171b"/><rect x="7" y="22" width="12" height="2" fill="#16171b"/></svg>`;

/**
 * The preview page: the latest video (with its poster and subtitles), every
 * scene with its state and narration (a click seeks the video to it), and
 * diagnostics. It follows /events.
 */
export const PREVIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>storyc preview</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #16171b; color: #e9e9ec; }
  header { display: flex; gap: 1rem; align-items: baseline; padding: 0.8rem 1.2rem; background: #202127; }
  h1 { font-size: 1.2rem; margin: 0; }
  #status { font-size: 0.9rem; padding: 0.15rem 0.6rem; border-radius: 1rem; background: #3a3b44; }
  #status[data-status="ready"] { background: #1f6b3a; }
  #status[data-status="building"] { background: #7a5a12; }
  #status[data-status="invalid"], #status[data-status="failed"] { background: #8a2323; }
  #message { color: #b8b8c0; font-size: 0.9rem; }
  /* Wide screens: the video and the scene list side by side; narrow ones: one above the other. */
  main { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.2rem; padding: 1.2rem; }
  @media (min-width: 1000px) { main { grid-template-columns: minmax(0, 3fr) minmax(300px, 2fr); align-items: start; } #side { max-height: calc(100vh - 5rem); overflow-y: auto; } }
  video { width: 100%; background: #000; border-radius: 6px; display: block; }
  /* Code frames keep their columns: a caret stays under what it points at, and a long line scrolls. */
  #diagnostics { white-space: pre; overflow-x: auto; font-family: ui-monospace, monospace; font-size: 0.85rem; background: #2a1616; border: 1px solid #8a2323; padding: 0.8rem; border-radius: 6px; margin-top: 1rem; }
  #diagnostics:empty { display: none; }
  #scenes { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 0.8rem; }
  .scene { background: #202127; border-radius: 6px; overflow: hidden; border: 2px solid transparent; cursor: pointer; }
  .scene:hover, .scene:focus-visible { border-color: #5a5b66; outline: none; }
  .scene.current { border-color: #4d8fd6; }
  .scene[data-start=""] { cursor: default; }
  .scene[data-state="rendering"] { border-color: #c99a2e; }
  .scene[data-state="failed"] { border-color: #c03a3a; }
  .scene img { width: 100%; display: block; aspect-ratio: 16 / 9; object-fit: cover; background: #2b2c33; }
  .scene .meta { padding: 0.5rem 0.7rem; font-size: 0.85rem; }
  .scene .state { float: right; font-size: 0.75rem; text-transform: uppercase; color: #b8b8c0; }
  .scene .narration { margin-top: 0.3rem; color: #d6d6dc; }
</style>
</head>
<body>
<header><h1 id="title">storyc</h1><span id="status" data-status="starting">starting</span><span id="message"></span></header>
<main>
  <div><video id="video" controls playsinline preload="metadata"></video><div id="diagnostics"></div></div>
  <div id="side"><section id="scenes" aria-label="scenes"></section></div>
</main>
<script>
  const $ = (id) => document.getElementById(id);
  let shownVideo = null;
  let starts = [];
  function seek(index) {
    const start = starts[index];
    if (typeof start !== "number") return;
    const video = $("video");
    video.currentTime = start;
    video.play().catch(() => {});
  }
  // The card of the scene playing now is outlined.
  $("video").addEventListener("timeupdate", () => {
    const t = $("video").currentTime;
    let current = -1;
    starts.forEach((s, i) => { if (typeof s === "number" && t >= s) current = i; });
    document.querySelectorAll(".scene").forEach((card) => card.classList.toggle("current", Number(card.dataset.index) === current));
  });
  function render(model) {
    $("title").textContent = model.title || "storyc";
    document.title = (model.title || "storyc") + " — storyc preview";
    $("status").textContent = model.status;
    $("status").dataset.status = model.status;
    $("message").textContent = model.message;
    $("diagnostics").textContent = model.diagnostics.join("\\n\\n");
    if (model.video && model.video !== shownVideo) {
      shownVideo = model.video;
      const video = $("video");
      video.replaceChildren();
      if (model.poster) video.poster = "/media/poster?v=" + model.poster;
      if (model.subtitles) {
        const track = document.createElement("track");
        track.kind = "subtitles";
        track.label = "Narration";
        track.srclang = "en";
        track.default = true;
        track.src = "/media/subtitles?v=" + model.subtitles;
        video.append(track);
      }
      video.src = "/media/video?v=" + model.video;
      video.dataset.version = model.video;
    }
    starts = model.scenes.map((s) => s.start);
    const list = $("scenes");
    list.replaceChildren(...model.scenes.map((s) => {
      const card = document.createElement("article");
      card.className = "scene";
      card.dataset.state = s.state;
      card.dataset.index = String(s.index);
      card.dataset.start = s.start === null ? "" : String(s.start);
      if (s.start !== null) {
        card.tabIndex = 0;
        card.setAttribute("role", "button");
        card.title = "play from this scene";
        card.addEventListener("click", () => seek(s.index));
        card.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); seek(s.index); } });
      }
      const img = document.createElement("img");
      img.alt = s.label;
      if (s.image) img.src = "/media/scene/" + s.index + "?v=" + s.image;
      const meta = document.createElement("div");
      meta.className = "meta";
      const state = document.createElement("span");
      state.className = "state";
      state.textContent = s.state;
      const label = document.createElement("strong");
      label.textContent = (s.index + 1) + ". " + s.label;
      const narration = document.createElement("div");
      narration.className = "narration";
      narration.textContent = s.narration;
      meta.append(state, label, narration);
      card.append(img, meta);
      return card;
    }));
  }
  const events = new EventSource("/events");
  events.addEventListener("update", (e) => render(JSON.parse(e.data)));
</script>
</body>
</html>
`;
