import { ELEMENT_KINDS, type ElementKind, type Story } from "./types.js";

/** A `**Name**` mention in a description. */
export interface Reference {
  /** The name as written between the asterisks. */
  name: string;
  /** The whole mention, asterisks included, as it appears in the text. */
  raw: string;
}

const MENTION = /\*\*([^*\n]+?)\*\*/g;

export function findReferences(text: string): Reference[] {
  const out: Reference[] = [];
  for (const m of text.matchAll(MENTION)) out.push({ name: m[1]!.trim(), raw: m[0] });
  return out;
}

export interface ElementRef {
  kind: ElementKind;
  index: number;
  name: string;
}

/** Elements by name, compared without case, so that **bunny** finds Bunny. */
export class ElementIndex {
  private readonly byName = new Map<string, ElementRef>();

  constructor(story: Partial<Story>) {
    for (const kind of ELEMENT_KINDS) {
      const list = story[kind];
      if (!Array.isArray(list)) continue;
      list.forEach((element, index) => {
        if (typeof element?.name !== "string") return;
        const key = normalise(element.name);
        if (!this.byName.has(key)) this.byName.set(key, { kind, index, name: element.name });
      });
    }
  }

  /** The element a mention names; "Bunny's" and "Bunny’s" find Bunny when no element has the longer name. */
  resolve(name: string): ElementRef | undefined {
    const key = normalise(name);
    return this.byName.get(key) ?? this.byName.get(key.replace(/['’]s?$/, ""));
  }

  names(): string[] {
    return [...this.byName.values()].map((e) => e.name);
  }
}

function normalise(name: string): string {
  return name.trim().replace(/\s+/g, " ").toLowerCase();
}

/** The distinct elements a text refers to, in order of first mention. Unknown names are left out. */
export function referencedElements(text: string, index: ElementIndex): ElementRef[] {
  const seen = new Set<string>();
  const out: ElementRef[] = [];
  for (const ref of findReferences(text)) {
    const element = index.resolve(ref.name);
    if (!element) continue;
    const id = `${element.kind}/${element.index}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(element);
  }
  return out;
}
