// Writes a valid story with N scenes (and a few elements they refer to) into a folder.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function writeGeneratedStory(dir, scenes, name = "generated") {
  mkdirSync(dir, { recursive: true });
  const characters = ["Ada", "Bo", "Cy", "Dee", "Eli"];
  const places = ["Harbour", "Market", "Tower"];
  const lines = [
    "storyc: 1",
    `title: Generated story of ${scenes} scenes`,
    "settings:",
    '  aspect_ratio: "16:9"',
    "  motion: { duration: 3 }",
    "characters:",
    ...characters.map((c, i) => `  - name: ${c}\n    description: Character ${c}, wearing a ${["red", "blue", "green", "yellow", "purple"][i]} coat.`),
    "environments:",
    ...places.map((p) => `  - name: ${p}\n    description: The ${p.toLowerCase()} at dusk, warm lamps and long shadows.`),
    "music:",
    "  description: Calm piano, slow tempo.",
    "scenes:",
  ];
  const motions = ["zoom in", "zoom out", "pan left", "pan right", "tilt up", "dolly in"];
  for (let i = 0; i < scenes; i++) {
    const who = characters[i % characters.length];
    const where = places[i % places.length];
    lines.push(
      `  - id: s${i + 1}`,
      `    description: "lighting: dusk, **${who}** walks through the **${where}**, scene ${i + 1}."`,
      `    narrator: In scene ${i + 1}, ${who} crosses the ${where.toLowerCase()} once more.`,
      `    motion_description: "camera motion: ${motions[i % motions.length]}, camera angle: eye level"`,
    );
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}
