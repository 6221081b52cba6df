/**
 * The voice files the espeak-ng package embeds under espeak-ng-data/lang, by
 * their paths there: each names a language eSpeak NG speaks. Kept here rather
 * than read from the package's 18 MB of WebAssembly, so that validating a
 * story stays quick; test/render/speech.test.ts holds the list to the package
 * installed.
 */
export const ESPEAK_VOICE_FILES: readonly string[] = [
  "aav/vi", "aav/vi-VN-x-central", "aav/vi-VN-x-south", "art/eo", "art/ia", "art/io", "art/jbo", "art/lfn",
  "art/piqd", "art/py", "art/qdb", "art/qya", "art/sjn", "azc/nci", "bat/lt", "bat/ltg", "bat/lv", "bnt/sw",
  "bnt/tn", "ccs/ka", "cel/cy", "cel/ga", "cel/gd", "cus/om", "dra/kn", "dra/ml", "dra/ta", "dra/te",
  "esx/kl", "eu", "gmq/da", "gmq/is", "gmq/nb", "gmq/sv", "gmw/af", "gmw/de", "gmw/en", "gmw/en-029",
  "gmw/en-GB-scotland", "gmw/en-GB-x-gbclan", "gmw/en-GB-x-gbcwmd", "gmw/en-GB-x-rp", "gmw/en-US",
  "gmw/en-US-nyc", "gmw/lb", "gmw/nl", "grk/el", "grk/grc", "inc/as", "inc/bn", "inc/bpy", "inc/gu", "inc/hi",
  "inc/kok", "inc/mr", "inc/ne", "inc/or", "inc/pa", "inc/sd", "inc/si", "inc/ur", "ine/hy", "ine/hyw",
  "ine/sq", "ira/fa", "ira/fa-Latn", "ira/ku", "iro/chr", "itc/la", "jpx/ja", "ko", "map/haw", "miz/mto",
  "myn/quc", "poz/id", "poz/mi", "poz/ms", "qu", "roa/an", "roa/ca", "roa/es", "roa/es-419", "roa/fr",
  "roa/fr-BE", "roa/fr-CH", "roa/ht", "roa/it", "roa/pap", "roa/pt", "roa/pt-BR", "roa/ro", "sai/gn",
  "sem/am", "sem/ar", "sem/he", "sem/mt", "sit/cmn", "sit/cmn-Latn-pinyin", "sit/hak", "sit/my", "sit/yue",
  "sit/yue-Latn-jyutping", "tai/shn", "tai/th", "trk/az", "trk/ba", "trk/cv", "trk/kk", "trk/ky", "trk/nog",
  "trk/tk", "trk/tr", "trk/tt", "trk/ug", "trk/uz", "urj/et", "urj/fi", "urj/hu", "urj/smj", "zle/be",
  "zle/ru", "zle/ru-LV", "zle/ru-cl", "zle/uk", "zls/bg", "zls/bs", "zls/hr", "zls/mk", "zls/sl", "zls/sr",
  "zlw/cs", "zlw/pl", "zlw/sk",
];
