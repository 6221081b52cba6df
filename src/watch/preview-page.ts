/** The preview page: the latest video, every scene with its state and narration, and diagnostics. It follows /events. */
export const PREVIEW_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>storyc preview</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #16171b; color: #e9e9ec; }
  header { display: flex; gap: 1rem; align-items: baseline; padding: 0.8rem 1.2rem; background: #202127; }
  h1 { font-size: 1.2rem; margin: 0; }
  #status { font-size: 0.9rem; padding: 0.15rem 0.6rem; border-radius: 1rem; background: #3a3b44; }
  #status[data-status="ready"] { background: #1f6b3a; }
  #status[data-status="building"] { background: #7a5a12; }
  #status[data-status="invalid"], #status[data-status="failed"] { background: #8a2323; }
  #message { color: #b8b8c0; font-size: 0.9rem; }
  main { display: grid; grid-template-columns: minmax(320px, 2fr) 1fr; gap: 1.2rem; padding: 1.2rem; }
  video { width: 100%; background: #000; border-radius: 6px; }
  #diagnostics { white-space: pre-wrap; font-family: ui-monospace, monospace; font-size: 0.85rem; background: #2a1616; border: 1px solid #8a2323; padding: 0.8rem; border-radius: 6px; }
  #diagnostics:empty { display: none; }
  #scenes { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 0.8rem; padding: 0 1.2rem 1.2rem; }
  .scene { background: #202127; border-radius: 6px; overflow: hidden; border: 2px solid transparent; }
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
  <div><video id="video" controls playsinline></video></div>
  <div id="diagnostics"></div>
</main>
<section id="scenes"></section>
<script>
  const $ = (id) => document.getElementById(id);
  let shownVideo = null;
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
      video.src = "/media/video?v=" + model.video;
      video.dataset.version = model.video;
    }
    const list = $("scenes");
    list.replaceChildren(...model.scenes.map((s) => {
      const card = document.createElement("article");
      card.className = "scene";
      card.dataset.state = s.state;
      card.dataset.index = String(s.index);
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
