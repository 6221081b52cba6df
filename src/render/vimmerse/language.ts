/** The API names languages in English words; a story names them by BCP 47 tag. */

/** The language of a story created without one (the contract's default). */
export const API_DEFAULT_LANGUAGE = "English";

const LANGUAGES: Record<string, string> = { ar: "Arabic", zh: "Chinese", en: "English", fr: "French", de: "German", hi: "Hindi", ja: "Japanese", ko: "Korean", es: "Spanish", tr: "Turkish" };

export function languageName(tag: string): string {
  return LANGUAGES[tag.split("-")[0]!.toLowerCase()] ?? API_DEFAULT_LANGUAGE;
}
