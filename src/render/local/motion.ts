import { FPS } from "./layout.js";

/** Camera motions the local renderer draws as Ken Burns moves on the scene's still. */
export const MOTIONS = ["zoom-in", "zoom-out", "pan-left", "pan-right", "tilt-up", "tilt-down", "dolly-in", "dolly-out", "tracking", "reveal", "static"] as const;
export type Motion = (typeof MOTIONS)[number];

const PATTERNS: Array<[RegExp, Motion]> = [
  [/zoom(ing)?[\s-]*in|push[\s-]*in/, "zoom-in"],
  [/zoom(ing)?[\s-]*out|pull[\s-]*(back|out)/, "zoom-out"],
  [/dolly[\s-]*in/, "dolly-in"],
  [/dolly[\s-]*(out|back)/, "dolly-out"],
  [/pan(ning)?[\s-]*left/, "pan-left"],
  [/pan(ning)?[\s-]*right|pans?\b/, "pan-right"],
  [/tilt(ing)?[\s-]*up|crane[\s-]*up/, "tilt-up"],
  [/tilt(ing)?[\s-]*down|crane[\s-]*down/, "tilt-down"],
  [/track(ing)?|follow/, "tracking"],
  [/reveal/, "reveal"],
  [/static|steady|still|locked/, "static"],
];

/** The motion a scene's `motion_description` asks for: its `camera motion:` part first, then anywhere in it. */
export function parseMotion(description: string | undefined): Motion {
  const text = (description ?? "").toLowerCase();
  const named = /camera\s*motion\s*:\s*([^,.;]+)/.exec(text)?.[1];
  for (const part of named ? [named, text] : [text]) {
    for (const [re, motion] of PATTERNS) if (re.test(part)) return motion;
  }
  return "static";
}

/**
 * zoompan expressions for a motion over `frames` frames. `on` is the output
 * frame; x and y are the top-left of the visible window in input pixels.
 * Panning left moves the window left, so the picture slides right. Moves
 * stay within 12% of the frame, so that the text inside the title-safe area
 * of a still (see stills.ts) stays whole.
 */
export function zoompanExpressions(motion: Motion, frames: number, offset = 0): { z: string; x: string; y: string } {
  // `offset`: the first frame this zoompan draws, for a clip drawn in pieces.
  const p = offset ? `((on+${offset})/${Math.max(1, frames - 1)})` : `(on/${Math.max(1, frames - 1)})`;
  const centreX = "(iw-iw/zoom)/2";
  const centreY = "(ih-ih/zoom)/2";
  switch (motion) {
    case "zoom-in":
      return { z: `1+0.15*${p}`, x: centreX, y: centreY };
    case "zoom-out":
      return { z: `1.15-0.15*${p}`, x: centreX, y: centreY };
    case "dolly-in":
      return { z: `1+0.22*${p}`, x: centreX, y: `(ih-ih/zoom)*0.45` };
    case "dolly-out":
      return { z: `1.22-0.22*${p}`, x: centreX, y: `(ih-ih/zoom)*0.45` };
    case "pan-left":
      return { z: "1.1", x: `(iw-iw/zoom)*(1-${p})`, y: centreY };
    case "pan-right":
      return { z: "1.1", x: `(iw-iw/zoom)*${p}`, y: centreY };
    case "tilt-up":
      return { z: "1.1", x: centreX, y: `(ih-ih/zoom)*(1-${p})` };
    case "tilt-down":
      return { z: "1.1", x: centreX, y: `(ih-ih/zoom)*${p}` };
    case "tracking":
      return { z: `1.08+0.04*${p}`, x: `(iw-iw/zoom)*${p}`, y: centreY };
    case "reveal":
      return { z: `1.25-0.25*${p}`, x: centreX, y: `(ih-ih/zoom)*0.4` };
    case "static":
      return { z: "1", x: "0", y: "0" };
  }
}

/**
 * The filters that draw frames [start, start + count) of a move spanning `span`
 * frames from a still, at the frame size: the clip's body and the crossfades
 * around it draw from this one description, so a crossfade continues the move
 * frame for frame. Twice the frame size in, so that slow moves advance by half
 * pixels instead of jumping whole ones; the still is converted to yuv420p once,
 * before the move, so zoompan scales 1.5 bytes a pixel instead of 4 for every
 * frame (a quarter less CPU in the filter, the same pictures).
 */
export function moveFilters(motion: Motion, span: number, start: number, count: number, width: number, height: number): string {
  if (motion === "static") return `scale=${width}:${height},format=yuv420p,loop=loop=${count - 1}:size=1:start=0,setpts=N/${FPS}/TB`;
  const { z, x, y } = zoompanExpressions(motion, span, start);
  return `scale=${width * 2}:${height * 2},format=yuv420p,zoompan=z='${z}':x='${x}':y='${y}':d=${count}:s=${width}x${height}:fps=${FPS},format=yuv420p`;
}
