/** Stories are hand-written text; anything larger is a mistake or an attack. */
export const MAX_STORY_BYTES = 1024 * 1024;
/** How many alias expansions a story may need before it counts as an alias bomb. */
export const MAX_ALIAS_COUNT = 100;
