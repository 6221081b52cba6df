import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { Plan } from "../../src/engine/plan.js";
import { palette } from "../../src/report/color.js";
import { formatPlan } from "../../src/report/plan-text.js";
import { displayWidth } from "../../src/report/terminal-text.js";
import { runBin } from "../helpers/cli.js";
import { copyExample } from "../helpers/story-dir.js";

const plain = palette(false);
const item = (id: string, credits?: number): Plan["items"][number] => ({ id, label: id, action: "create", reasons: ["new"], ...(credits ? { credits } : {}) });

describe("plan output", () => {
  it("aligns the reasons by display width when names hold emoji or CJK", () => {
    const plan: Plan = {
      items: [item("element/characters/Bunny"), item("element/characters/🐰 Hopper"), item("element/environments/東京の森"), item("music")],
      counts: { create: 4, update: 0, delete: 0, fresh: 0 },
    };
    const lines = formatPlan(plan, plain).split("\n").filter((l) => l.startsWith("+"));
    const columns = lines.map((l) => displayWidth(l.slice(0, l.lastIndexOf("new"))));
    expect(new Set(columns).size).toBe(1);
  });

  it('says "~1 credit" for one, "~2 credits" for more', () => {
    const plan: Plan = { items: [item("music", 1), item("title", 2)], counts: { create: 2, update: 0, delete: 0, fresh: 0 }, credits: 1 };
    const text = formatPlan(plan, plain);
    expect(text).toMatch(/music +new +~1 credit$/m);
    expect(text).toMatch(/title +new +~2 credits$/m);
    expect(text).toContain("estimated cost: ~1 credit");
    expect(text).not.toContain("1 credits");
  });

  it('a video with four changed clips says "and 1 more clip"', async () => {
    const { dir, story } = await copyExample("promo-vertical", "promo.yaml");
    expect((await runBin(["build", "promo.yaml", "--renderer", "test"], { cwd: dir })).code).toBe(0);
    let text = await readFile(story, "utf8");
    for (const line of ["Every band starts with one small sound.", "Then a heartbeat joins in.", "And a bright voice calls everyone near.", "When the sun goes down, the music keeps going."]) {
      text = text.replace(line, `${line} Again.`);
    }
    await writeFile(story, text);
    const r = await runBin(["plan", "promo.yaml", "--renderer", "test"], { cwd: dir });
    expect(r.stdout).toMatch(/^~ video .*and 1 more clip(;|$)/m);
    expect(r.stdout).not.toContain("1 more clips");
  });
});
