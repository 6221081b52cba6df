import { VimmerseApiError, type ApiStory } from "./client.js";

/**
 * Reading the Story API's answers: where the documents place element images
 * and clips, and what a failed media says. Every shape the contract shows is
 * read; a clip is found by the scene image it was made from, never by position.
 */

/** A scene's clip as the answer to a videos request names it, or why it has none. */
export type ClipOutcome = { url: string } | { error: VimmerseApiError };

/** An element's image in an answer: under `image_url` or `URL`, both of which the documents show. */
export function findElementUrl(story: ApiStory, node: { inputs: { kind: "characters" | "environments" | "objects"; name: string } }): string | undefined {
  const name = node.inputs.name.toLowerCase();
  const found = story.storyboard?.[node.inputs.kind]?.find((e) => e.name?.toLowerCase() === name);
  return (found?.image_url || found?.URL) ?? undefined;
}

type Loose = Record<string, unknown> | undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" && v ? v : undefined);

/** What a media entry says about its source image, and whether it is an AI transition between two scenes. */
function mediaSource(m: Loose): { image?: string; transition: boolean } {
  const source = (m?.source ?? {}) as Record<string, unknown>;
  const image = str(source.image_url) ?? str(m?.image_url);
  const transition = m?.is_transition === true || m?.is_transition === "Yes" || Boolean(str(source.end_image_url)) || /transition/i.test(String(m?.type ?? ""));
  return { ...(image ? { image } : {}), transition };
}

/** The API's words for failed media, for a message. */
export function failureReasons(story: ApiStory | undefined, image?: string): string | undefined {
  const failed = ((story?.failed_medias ?? []) as Loose[]).filter((m) => image === undefined || mediaSource(m).image === image);
  if (!failed.length) return undefined;
  return failed.map((m) => str(m?.message) ?? str(m?.error) ?? str(m?.reason) ?? str(m?.status) ?? "a failed media without a reason").join("; ");
}

/**
 * Maps each scene sent in a videos request to its clip by identity: the scene
 * image a clip was made from, wherever the answer places clips (`scenes`,
 * `storyboard.scenes`, `medias`). The storyboard the answer holds must be the
 * one that was sent, in order; a scene with no clip, or with two different
 * ones, is refused, and a failed media fails its scene with the API's reason.
 */
export function mapClips(story: ApiStory, sentImages: readonly string[]): ClipOutcome[] {
  const board = (story.storyboard?.scenes ?? []) as Loose[];
  const boardImages = board.map((s) => str(s?.image_url));
  if (boardImages.length === sentImages.length && boardImages.some((u, k) => u !== undefined && u !== sentImages[k])) {
    const error = new VimmerseApiError("malformed", "the story's storyboard is not the one this videos request sent (another request on the same story replaced it)", null, "make sure no other client works on this story, then build again");
    return sentImages.map(() => ({ error }));
  }
  const candidates = new Map<string, Set<string>>(sentImages.map((u) => [u, new Set<string>()]));
  const add = (image: string | undefined, url: string | undefined) => image && url && candidates.get(image)?.add(url);
  for (const s of (story.scenes ?? []) as Loose[]) add(str(s?.image_url), str(s?.video_url));
  for (const s of board) add(str(s?.image_url), str(s?.video_url));
  for (const m of (story.medias ?? []) as Loose[]) {
    const { image, transition } = mediaSource(m);
    if (!transition) add(image, str(m?.video_url) ?? str(m?.url) ?? str(m?.URL));
  }
  return sentImages.map((image): ClipOutcome => {
    const urls = [...candidates.get(image)!];
    const reasons = failureReasons(story, image);
    if (reasons && urls.length === 0) return { error: new VimmerseApiError("invalid", `the Story API failed to make this clip: ${reasons}`, null, "change the scene or its motion, or build again to retry it") };
    if (urls.length === 1 && !reasons) return { url: urls[0]! };
    if (urls.length === 0) return { error: new VimmerseApiError("malformed", `the Story API's answer names no clip made from this scene's image (${image})`, null, "build again to retry this clip; if it persists, report it") };
    return { error: new VimmerseApiError("malformed", `the Story API's answer is ambiguous for this scene's image (${image}): ${urls.length} different clips${reasons ? ` and a failure (${reasons})` : ""}; storyc will not guess which is this scene's`, null, "build again to retry this clip; if it persists, report it") };
  });
}
