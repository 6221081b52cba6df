import sharp, { type Sharp } from "sharp";
import { paletteFrom, shade, type Palette } from "./palette.js";

const FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif";

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Words in lines of at most `width` characters; at most `maxLines`, the last ending in … when text was cut. */
export function wrapText(text: string, width: number, maxLines: number): string[] {
  const words = text.replace(/\*\*/g, "").replace(/\s+/g, " ").trim().split(" ").filter(Boolean);
  const lines: string[] = [];
  let line = "";
  let cut = false;
  for (const word of words) {
    if (line && (line + " " + word).length > width) {
      lines.push(line);
      line = word;
      if (lines.length === maxLines) {
        cut = true;
        line = "";
        break;
      }
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  if (cut) {
    let last = lines[maxLines - 1]!;
    while ((last + " …").length > width && last.includes(" ")) last = last.replace(/\s*\S+$/, "");
    lines[maxLines - 1] = `${last} …`;
  }
  return lines;
}

function textLines(lines: string[], x: number, y: number, size: number, fill: string, options: { anchor?: string; weight?: string; lineHeight?: number } = {}): string {
  const lh = size * (options.lineHeight ?? 1.3);
  return lines
    .map(
      (l, i) =>
        `<text x="${x}" y="${y + i * lh}" font-family="${FONT}" font-size="${size}" font-weight="${options.weight ?? "normal"}" fill="${fill}" text-anchor="${options.anchor ?? "start"}">${escapeXml(l)}</text>`,
    )
    .join("");
}

function gradient(id: string, p: Palette): string {
  return `<defs><linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${p.top}"/><stop offset="1" stop-color="${p.bottom}"/></linearGradient></defs>`;
}

/** Deterministic sprinkles (stars at night, motes in the sun) so that the same text gives the same picture. */
function sprinkles(seedText: string, width: number, height: number, p: Palette): string {
  let seed = 0;
  for (const c of seedText) seed = (seed * 31 + c.charCodeAt(0)) >>> 0;
  const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const dots: string[] = [];
  const count = p.light < 0.3 ? 60 : 18;
  for (let i = 0; i < count; i++) {
    const r = p.light < 0.3 ? 1 + rand() * 2 : 4 + rand() * 14;
    const opacity = p.light < 0.3 ? 0.8 : 0.12;
    dots.push(`<circle cx="${(rand() * width).toFixed(1)}" cy="${(rand() * height * 0.6).toFixed(1)}" r="${r.toFixed(1)}" fill="#ffffff" opacity="${opacity}"/>`);
  }
  return dots.join("");
}

async function png(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png({ compressionLevel: 6 }).toBuffer();
}

/** Pixels with their size and channels, as one drawing step hands them to the next without a PNG's compression between. */
interface Pixels {
  data: Buffer;
  raw: { width: number; height: number; channels: 1 | 2 | 3 | 4 };
}

async function pixels(image: Sharp): Promise<Pixels> {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  return { data, raw: { width: info.width, height: info.height, channels: info.channels } };
}

/** An image file scaled and cropped to fill the frame. */
export async function coverImage(file: string, width: number, height: number): Promise<Buffer> {
  return sharp(file).resize(width, height, { fit: "cover", position: "attention" }).removeAlpha().png().toBuffer();
}

/**
 * A reference picture as the scenes use it: turned upright by its EXIF
 * orientation, at most 1920 pixels on its long side, without metadata.
 */
export async function referencePicture(file: string): Promise<Buffer> {
  return sharp(file).rotate().resize(1920, 1920, { fit: "inside", withoutEnlargement: true }).removeAlpha().png().toBuffer();
}

const KIND_LABEL: Record<string, string> = { characters: "CHARACTER", environments: "ENVIRONMENT", objects: "OBJECT" };

/** A square card for a character, environment or object, drawn from its description. */
export async function elementCard(element: { kind: string; name: string; description: string; imageFile?: string; remoteUrl?: string }, size = 640): Promise<Buffer> {
  const p = paletteFrom(element.description);
  const badge = `<rect x="32" y="32" rx="18" width="${KIND_LABEL[element.kind]!.length * 15 + 40}" height="40" fill="${shade(p.accent, -0.2)}" opacity="0.85"/>${textLines([KIND_LABEL[element.kind]!], 52, 60, 22, "#ffffff", { weight: "bold" })}`;
  const nameLines = wrapText(element.name, 22, 2);
  const overlayText = (top: number) =>
    `<rect x="0" y="${top}" width="${size}" height="${size - top}" fill="#000000" opacity="0.45"/>` +
    textLines(nameLines, 36, top + 58, 44, "#ffffff", { weight: "bold" }) +
    textLines(wrapText(element.description, 46, 4), 36, top + 58 + nameLines.length * 54, 22, "#f0f0f0");
  if (element.imageFile) {
    const photo = await coverImage(element.imageFile, size, size);
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${badge}${overlayText(size - 150 - nameLines.length * 40)}</svg>`;
    return sharp(photo).composite([{ input: Buffer.from(svg) }]).png().toBuffer();
  }
  const emblem =
    element.kind === "characters"
      ? `<circle cx="${size / 2}" cy="${size * 0.34}" r="${size * 0.13}" fill="${p.accent}"/><path d="M ${size * 0.27} ${size * 0.62} Q ${size / 2} ${size * 0.4} ${size * 0.73} ${size * 0.62} Z" fill="${p.accent}"/>`
      : element.kind === "environments"
        ? `<path d="M 0 ${size * 0.5} L ${size * 0.3} ${size * 0.28} L ${size * 0.5} ${size * 0.42} L ${size * 0.75} ${size * 0.22} L ${size} ${size * 0.48} L ${size} ${size} L 0 ${size} Z" fill="${p.accent}" opacity="0.8"/>`
        : `<rect x="${size * 0.36}" y="${size * 0.16}" width="${size * 0.28}" height="${size * 0.28}" transform="rotate(45 ${size / 2} ${size * 0.3})" fill="${p.accent}"/>`;
  const note = element.remoteUrl ? textLines(["reference image not fetched offline"], size - 32, size - 20, 16, "#ffffff", { anchor: "end" }) : "";
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">${gradient("g", p)}<rect width="${size}" height="${size}" fill="url(#g)"/>${sprinkles(element.name, size, size, p)}${emblem}${badge}${overlayText(size * 0.6)}${note}</svg>`;
  return png(svg);
}

export interface SceneStill {
  width: number;
  height: number;
  description: string;
  /** Palette source: the environments the scene shows, else the scene itself. */
  groundText: string;
  /** Element cards to inset: characters and objects the scene shows. */
  insets: string[];
  imageFile?: string;
}

/** A scene's still: the environment's colours as the ground, the characters and objects inset, the lighting and the description. */
export async function sceneImage(scene: SceneStill): Promise<Buffer> {
  const { width: w, height: h } = scene;
  const lighting = /lighting:\s*([^,]+)/i.exec(scene.description)?.[1]?.trim();
  const description = scene.description.replace(/lighting:\s*[^,]+,?\s*/i, "");
  const p = paletteFrom(lighting, scene.groundText);
  const scale = Math.min(w, h) / 720;
  // Text stays inside the title-safe area (10% in from each edge), which no camera move crops.
  const safeX = w * 0.1;
  const safeY = h * 0.1;
  const chars = Math.floor((w - 2 * safeX - 40 * scale) / (12 * scale));
  const descLines = wrapText(description, chars, 3);
  const boxH = (30 + descLines.length * 29) * scale;
  const chip = lighting
    ? `<rect x="${safeX}" y="${safeY}" rx="${16 * scale}" width="${(lighting.length * 11 + 120) * scale}" height="${36 * scale}" fill="#000000" opacity="0.4"/>${textLines([`lighting: ${lighting}`], safeX + 16 * scale, safeY + 25 * scale, 19 * scale, "#ffffff")}`
    : "";
  const boxTop = h - safeY - boxH;
  const caption = `<rect x="${safeX}" y="${boxTop}" rx="${10 * scale}" width="${w - 2 * safeX}" height="${boxH}" fill="#000000" opacity="0.5"/>${textLines(descLines, safeX + 20 * scale, boxTop + 33 * scale, 21 * scale, "#ffffff")}`;
  const overlay = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${chip}${caption}</svg>`);

  // A drawn ground is composited on as it renders, with no PNG made of it in between. A photo is cropped
  // to a PNG first, as before: the still written takes its resolution (pHYs) from it.
  let base: Buffer;
  if (scene.imageFile) {
    base = await coverImage(scene.imageFile, w, h);
  } else {
    const horizon = h * 0.62;
    const ground = `<path d="M 0 ${horizon} Q ${w * 0.3} ${horizon - h * 0.06} ${w * 0.55} ${horizon} T ${w} ${horizon - h * 0.03} L ${w} ${h} L 0 ${h} Z" fill="${shade(p.bottom, -0.15)}"/>`;
    const sun = p.light > 0.3 ? `<circle cx="${w * 0.8}" cy="${h * 0.2}" r="${h * 0.08}" fill="#fff6d8" opacity="${(0.3 + p.light * 0.5).toFixed(2)}"/>` : `<circle cx="${w * 0.8}" cy="${h * 0.18}" r="${h * 0.05}" fill="#eef0ff" opacity="0.9"/>`;
    base = Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${gradient("g", p)}<rect width="${w}" height="${h}" fill="url(#g)"/>${sprinkles(scene.description, w, h, p)}${sun}${ground}</svg>`);
  }
  const insetSize = Math.round(Math.min(h * 0.4, (w * 0.8) / Math.max(1, scene.insets.length)));
  const gap = Math.round(insetSize * 0.08);
  const total = scene.insets.length * insetSize + (scene.insets.length - 1) * gap;
  const top = Math.round(h * 0.52 - insetSize / 2 - boxH / 3);
  const insets = await Promise.all(
    scene.insets.map(async (file, i) => {
      const inset = await pixels(
        sharp(file)
          .resize(insetSize, insetSize)
          .composite([{ input: Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${insetSize}" height="${insetSize}"><rect x="2" y="2" width="${insetSize - 4}" height="${insetSize - 4}" fill="none" stroke="#ffffff" stroke-width="4"/></svg>`) }]),
      );
      return { input: inset.data, raw: inset.raw, left: Math.round((w - total) / 2 + i * (insetSize + gap)), top: Math.max(0, top) };
    }),
  );
  return sharp(base).composite([...insets, { input: overlay, left: 0, top: 0 }]).removeAlpha().png().toBuffer();
}

/** The title card: the title large on colours drawn from the title scene's description. */
export async function titleCard(card: { width: number; height: number; title: string; description: string }): Promise<Buffer> {
  const { width: w, height: h } = card;
  const p = paletteFrom(card.description, card.title);
  const scale = Math.min(w, h) / 720;
  const titleLines = wrapText(card.title, Math.floor(w / (34 * scale)), 3);
  const size = 64 * scale;
  const y0 = h / 2 - ((titleLines.length - 1) * size * 1.2) / 2;
  const sub = wrapText(card.description, Math.floor(w / (14 * scale)), 2);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${gradient("g", p)}<rect width="${w}" height="${h}" fill="url(#g)"/>${sprinkles(card.title, w, h, p)}
<rect x="${w * 0.08}" y="${y0 - size * 1.3}" width="${w * 0.84}" height="${titleLines.length * size * 1.2 + size * 1.1}" rx="${12 * scale}" fill="#000000" opacity="0.35"/>
${textLines(titleLines, w / 2, y0, size, "#ffffff", { anchor: "middle", weight: "bold", lineHeight: 1.2 })}
${textLines(sub, w / 2, y0 + titleLines.length * size * 1.2 + 10 * scale, 22 * scale, "#ffffff", { anchor: "middle" })}
${textLines(["storyc animatic"], w - 24 * scale, h - 24 * scale, 16 * scale, "#ffffff", { anchor: "end" })}</svg>`;
  return png(svg);
}
