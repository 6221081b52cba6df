import type { Plan, PlanAction } from "../engine/plan.js";

const SYMBOL: Record<PlanAction, string> = { create: "+", update: "~", delete: "-", fresh: "=" };
const WORD: Record<PlanAction, string> = { create: "generate", update: "regenerate", delete: "remove", fresh: "fresh" };

/**
 * The plans of a story repo as GitHub-flavoured Markdown for a pull-request
 * comment: a total, then per story a table of what changes and why (fresh
 * nodes are only counted), with the estimated credits of paid work.
 */
export function formatPlansMarkdown(plans: ReadonlyArray<{ story: string; plan: Plan; renderer: string }>): string {
  const total = { create: 0, update: 0, delete: 0, fresh: 0 };
  let credits = 0;
  let paid = false;
  for (const { plan } of plans) {
    for (const k of Object.keys(total) as PlanAction[]) total[k] += plan.counts[k];
    if (plan.credits !== undefined) {
      paid = true;
      credits += plan.credits;
    }
  }
  const lines = [
    "## storyc plan",
    "",
    `**${plans.length} ${plans.length === 1 ? "story" : "stories"}**: ${total.create} to generate, ${total.update} to regenerate, ${total.delete} to remove, ${total.fresh} fresh${paid ? `; estimated cost: **${credits} credits**` : ""}`,
  ];
  for (const { story, plan, renderer } of plans) {
    const c = plan.counts;
    lines.push("", `### \`${cell(story)}\``, "", `${c.create} to generate, ${c.update} to regenerate, ${c.delete} to remove, ${c.fresh} fresh (renderer: ${cell(renderer)}${plan.credits !== undefined ? `, ~${plan.credits} credits` : ""})`);
    const changes = plan.items.filter((i) => i.action !== "fresh");
    if (changes.length === 0) {
      lines.push("", "Nothing to render.");
      continue;
    }
    lines.push("", `| | Node | Change | Why |${plan.credits !== undefined ? " Credits |" : ""}`, `|---|---|---|---|${plan.credits !== undefined ? "---:|" : ""}`);
    for (const item of changes) {
      const why = item.reasons.length ? item.reasons.join("; ") : "";
      lines.push(`| \`${SYMBOL[item.action]}\` | \`${cell(item.id)}\` | ${WORD[item.action]} | ${cell(why)} |${plan.credits !== undefined ? ` ${item.credits ?? 0} |` : ""}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** Text that cannot break a table row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/`/g, "'").replace(/\r?\n/g, " ");
}
