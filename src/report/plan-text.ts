import type { Plan, PlanAction } from "../engine/plan.js";
import type { Palette } from "./color.js";
import { plural } from "./diagnostics.js";
import { displayWidth, padEndDisplay, safe } from "./terminal-text.js";

const SYMBOL: Record<PlanAction, string> = { create: "+", update: "~", delete: "-", fresh: "=" };

/** A plan as Terraform users would expect: one line per node, then a count. */
export function formatPlan(plan: Plan, p: Palette, options: { showFresh?: boolean } = {}): string {
  const colour: Record<PlanAction, (s: string) => string> = { create: p.green, update: p.yellow, delete: p.red, fresh: p.dim };
  // Columns line up by what the terminal shows: an emoji or a CJK name takes two columns a character.
  const width = Math.min(48, Math.max(...plan.items.map((i) => displayWidth(safe(i.id))), 10));
  const lines: string[] = [];
  for (const item of plan.items) {
    if (item.action === "fresh" && options.showFresh === false && item.reasons.length === 0) continue;
    const why = item.reasons.length ? `  ${p.dim(safe(item.reasons.join("; ")))}` : "";
    const credits = item.credits ? p.dim(`  ~${plural(item.credits, "credit")}`) : "";
    lines.push(`${colour[item.action](`${SYMBOL[item.action]} ${padEndDisplay(safe(item.id), width)}`)}${why}${credits}`.trimEnd());
    for (const note of item.notes ?? []) lines.push(`    ${p.dim(safe(note))}`);
  }
  lines.push("");
  lines.push(planSummary(plan));
  for (const problem of plan.blocking ?? []) lines.push(`${p.red("blocked")}: ${problem.message}\n  ${p.cyan("hint")}: ${problem.hint}`);
  return lines.join("\n");
}

export function planSummary(plan: Plan): string {
  const c = plan.counts;
  const cost = plan.credits !== undefined ? `; estimated cost: ~${plural(plan.credits, "credit")}` : "";
  return `Plan: ${c.create} to generate, ${c.update} to regenerate, ${c.delete} to remove, ${c.fresh} fresh${cost}`;
}

export function hasWork(plan: Plan): boolean {
  return plan.counts.create + plan.counts.update + plan.counts.delete > 0;
}
