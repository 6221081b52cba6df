import { NARRATION_LEAD_IN, NARRATION_TAIL } from "../render/local/layout.js";
import { MOTIONS, parseMotion } from "../render/local/motion.js";
import { CLOUD_VOICES, SPOKEN_LANGUAGES_HINT, speaksLanguage } from "../render/local/speech.js";
import type { Diagnostic } from "./diagnostics.js";
import { label, suggest } from "./schema.js";
import { pointerOf, type StorySource } from "./source.js";

/**
 * The pace of the narrator: eSpeak NG speaks at 160 words a minute (speech.ts
 * passes `-s 160`), close to the cloud voices' pace.
 */
export const NARRATION_WORDS_PER_MINUTE = 160;
const DEFAULT_SCENE_SECONDS = 5;
/**
 * The local renderer holds a scene until its narration ends, so a little
 * overflow is fine; past half as long again, the scene's motion crawls and
 * the cloud's fixed-length clip runs out long before the voice does.
 */
const STRETCH_LIMIT = 1.5;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);

/** Seconds a narration takes to speak at the narrator's pace. */
export function narrationSeconds(text: string): number {
  const words = text.trim().split(/\s+/).filter(Boolean).length;
  return (words * 60) / NARRATION_WORDS_PER_MINUTE;
}

// A camera move is named by one of these words; parseMotion falls back to "static" when none is, so its
// own words for a still camera are needed to tell "static on purpose" from "nothing recognised".
const STILL_WORDS = /static|steady|still|locked/;
const MOVE_NAMES = MOTIONS.map((m) => m.replace("-", " "));

/**
 * Warnings a writer can act on, about what the story will sound and look
 * like: narration that does not fit its scene, a narrator voice no renderer
 * knows, a camera move no renderer recognises, a language the local renderer
 * cannot speak.
 */
export function checkWriterWarnings(source: StorySource, data: unknown): Diagnostic[] {
  if (!isObject(data)) return [];
  const out: Diagnostic[] = [];
  const settings = isObject(data.settings) ? data.settings : {};
  const motion = isObject(settings.motion) ? settings.motion : {};
  const defaultSeconds = typeof motion.duration === "number" ? motion.duration : DEFAULT_SCENE_SECONDS;

  if (typeof settings.narrator === "string" && settings.narrator.trim() !== "") {
    const voice = settings.narrator.trim();
    if (!CLOUD_VOICES.some((v) => v.toLowerCase() === voice.toLowerCase())) {
      const pointer = pointerOf("settings", "narrator");
      const guess = suggest(voice, CLOUD_VOICES);
      out.push(
        source.diagnostic(
          "warning",
          "unknown-voice",
          source.range(pointer),
          pointer,
          `there is no narrator voice named ${JSON.stringify(voice)}: the cloud refuses it, and the local renderer picks a voice of its own`,
          guess ? `did you mean \`${guess}\`?` : `the voices are: ${CLOUD_VOICES.join(", ")}`,
        ),
      );
    }
  }

  const scenes = Array.isArray(data.scenes) ? data.scenes : [];
  const narrated = scenes.some((s) => isObject(s) && typeof s.narrator === "string" && s.narrator.trim() !== "");
  if (narrated && typeof settings.language === "string" && settings.language.trim() !== "" && !speaksLanguage(settings.language.trim())) {
    const pointer = pointerOf("settings", "language");
    out.push(
      source.diagnostic(
        "warning",
        "unspoken-language",
        source.range(pointer),
        pointer,
        `the local renderer's speech synthesizer (eSpeak NG) speaks no ${JSON.stringify(settings.language.trim())}: the narrations of this story fail to render locally`,
        SPOKEN_LANGUAGES_HINT,
      ),
    );
  }
  scenes.forEach((scene, i) => {
    if (!isObject(scene)) return;
    const seconds = typeof scene.duration === "number" ? scene.duration : defaultSeconds;
    if (typeof scene.narrator === "string" && scene.narrator.trim() !== "") {
      const needed = narrationSeconds(scene.narrator);
      if (needed > seconds * STRETCH_LIMIT) {
        const pointer = pointerOf("scenes", i, "narrator");
        const words = Math.max(1, Math.floor(((seconds - NARRATION_LEAD_IN - NARRATION_TAIL) * NARRATION_WORDS_PER_MINUTE) / 60));
        const speech = needed < 60 ? `${needed.toFixed(1)} s` : `${Math.round(needed)} s (${(needed / 60).toFixed(1)} min)`;
        out.push(
          source.diagnostic(
            "warning",
            "narration-too-long",
            source.range(pointer),
            pointer,
            `the narration of ${label(pointerOf("scenes", i))} takes about ${speech} to speak at the narrator's pace (${NARRATION_WORDS_PER_MINUTE} words a minute), but the scene lasts ${seconds} s`,
            `cut it to about ${words} words, split the scene, or give it a longer \`duration\``,
          ),
        );
      }
    }
    if (typeof scene.motion_description === "string" && scene.motion_description.trim() !== "") {
      const text = scene.motion_description.toLowerCase();
      if (parseMotion(text) === "static" && !STILL_WORDS.test(text)) {
        const pointer = pointerOf("scenes", i, "motion_description");
        const named = /camera\s*motion\s*:\s*([^,.;]+)/.exec(text)?.[1]?.trim();
        const guess = named ? suggest(named, MOVE_NAMES) : undefined;
        out.push(
          source.diagnostic(
            "warning",
            "unknown-camera-move",
            source.range(pointer),
            pointer,
            `${label(pointerOf("scenes", i))} names no camera move the renderer knows${named ? ` ("${named}")` : ""}, so its camera stays still`,
            guess ? `did you mean \`camera motion: ${guess}\`?` : `write \`camera motion: <move>\` with one of: ${MOVE_NAMES.join(", ")}`,
          ),
        );
      }
    }
  });
  return out;
}
