/**
 * The languages eSpeak NG speaks: the names of the voice files the espeak-ng
 * package embeds under espeak-ng-data/lang. Kept here rather than read from
 * the package's 18 MB of WebAssembly, so that validating a story stays quick;
 * test/render/speech.test.ts holds the list to the package installed.
 */
export const ESPEAK_LANGUAGES: readonly string[] = [
  "af", "am", "an", "ar", "as", "az", "ba", "be", "bg", "bn", "bpy", "bs", "ca", "chr", "cmn",
  "cmn-Latn-pinyin", "cs", "cv", "cy", "da", "de", "el", "en", "en-029", "en-GB-scotland",
  "en-GB-x-gbclan", "en-GB-x-gbcwmd", "en-GB-x-rp", "en-US", "en-US-nyc", "eo", "es", "es-419",
  "et", "eu", "fa", "fa-Latn", "fi", "fr", "fr-BE", "fr-CH", "ga", "gd", "gn", "grc", "gu", "hak",
  "haw", "he", "hi", "hr", "ht", "hu", "hy", "hyw", "ia", "id", "io", "is", "it", "ja", "jbo",
  "ka", "kk", "kl", "kn", "ko", "kok", "ku", "ky", "la", "lb", "lfn", "lt", "ltg", "lv", "mi",
  "mk", "ml", "mr", "ms", "mt", "mto", "my", "nb", "nci", "ne", "nl", "nog", "om", "or", "pa",
  "pap", "piqd", "pl", "pt", "pt-BR", "py", "qdb", "qu", "quc", "qya", "ro", "ru", "ru-LV",
  "ru-cl", "sd", "shn", "si", "sjn", "sk", "sl", "smj", "sq", "sr", "sv", "sw", "ta", "te", "th",
  "tk", "tn", "tr", "tt", "ug", "uk", "ur", "uz", "vi", "vi-VN-x-central", "vi-VN-x-south", "yue",
  "yue-Latn-jyutping",
];
