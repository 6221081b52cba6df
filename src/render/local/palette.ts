import { createHash } from "node:crypto";

/** Colours drawn from the words of a description. */
export interface Palette {
  /** Sky or upper background. */
  top: string;
  /** Ground or lower background. */
  bottom: string;
  /** Shapes and highlights. */
  accent: string;
  /** Text on the background. */
  ink: string;
  /** 0 (night) to 1 (full sun). */
  light: number;
  /** The words that chose the colours, for the curious. */
  words: string[];
}

const COLOURS: Record<string, string> = {
  white: "#f4f1ea", snow: "#f7f7f5", ivory: "#f3ecd8", cream: "#efe3c2", beige: "#d9c7a3", black: "#1d1d22", grey: "#8a8d93",
  gray: "#8a8d93", silver: "#b8bcc4", gold: "#d9a521", golden: "#e0ab2a", honey: "#e3a72f", amber: "#d98c1f", yellow: "#f0cf3a",
  orange: "#e8802c", peach: "#f2b58e", red: "#c9362d", crimson: "#a3142a", scarlet: "#d1242f", pink: "#ee8fb0", rose: "#d9667f",
  purple: "#6e3f9e", violet: "#7b4fc9", lavender: "#b9a3e3", blue: "#2f67c2", azure: "#3a8ee6", navy: "#1d2d5c", teal: "#1f8a8a",
  turquoise: "#2bb5b0", cyan: "#3cc7d6", green: "#3f8f3f", emerald: "#1f8a5a", moss: "#5f7d3a", olive: "#75752e", lime: "#97c93c",
  brown: "#7a5232", chestnut: "#8a4b2a", tan: "#c19a6b", bronze: "#a86f2b", copper: "#b8663a", brass: "#b5912f", slate: "#5b6573",
  wood: "#8b5a2b", wooden: "#8b5a2b", stone: "#8f8a80", glass: "#bfe3ea", metal: "#9aa3ad", steel: "#7f8a96", chrome: "#c9d0d8",
  leather: "#6b3f24", forest: "#2f6b3a", sea: "#1f5c8a", ocean: "#1b4f80", sky: "#7fb2e8", sand: "#dcc38f", fire: "#e2561f",
  water: "#3b86c4", grass: "#5aa343", snowy: "#eef2f5", fur: "#e8e2d6", fluffy: "#efe9df", rust: "#a4502a", mint: "#98d9b6",
};

const LIGHT: Array<[RegExp, number, string]> = [
  [/\b(night|midnight|moonlit|starlit|starlight|dark)\b/, 0.15, "#141a38"],
  [/\b(storm|stormy|rain|overcast|fog|misty)\b/, 0.35, "#4a5463"],
  [/\b(dusk|twilight|sunset|evening)\b/, 0.45, "#c9775a"],
  [/\b(dawn|sunrise|morning)\b/, 0.7, "#f0b98a"],
  [/\b(lantern|candle|lamp|glow|firelight)\b/, 0.4, "#e0a040"],
  [/\b(golden hour|golden|warm)\b/, 0.75, "#f2c46b"],
  [/\b(sun|sunny|sunlight|sunlit|bright|daylight|dappled)\b/, 0.9, "#bfe0f7"],
];

/** A palette from a description's colour, light and material words; the same text always gives the same colours. */
export function paletteFrom(...texts: Array<string | undefined>): Palette {
  const text = texts.filter(Boolean).join(" ").toLowerCase();
  const found: Array<{ word: string; at: number }> = [];
  for (const word of Object.keys(COLOURS)) {
    const at = text.search(new RegExp(`\\b${word}\\b`));
    if (at >= 0) found.push({ word, at });
  }
  found.sort((a, b) => a.at - b.at);
  const words = found.map((f) => f.word);
  const light = LIGHT.find(([re]) => re.test(text));
  const level = light?.[1] ?? 0.7;
  const hashed = hashColour(text);
  const first = found[0] ? COLOURS[found[0].word]! : hashed;
  const second = found[1] ? COLOURS[found[1].word]! : shade(first, -0.35);
  const accent = found[2] ? COLOURS[found[2].word]! : shade(first, 0.45);
  const top = light ? mix(light[2], first, 0.35) : shade(first, 0.25);
  const bottom = shade(second, (level - 0.7) * 0.6);
  if (light) words.unshift(light[0].source.replace(/\\b|\(|\)/g, "").split("|")[0]!);
  return { top, bottom, accent, ink: luminance(mix(top, bottom, 0.5)) > 0.55 ? "#15151a" : "#fbfaf6", light: level, words };
}

function hashColour(text: string): string {
  const h = createHash("sha256").update(text).digest();
  const hue = (h[0]! / 255) * 360;
  return hsl(hue, 0.45, 0.45);
}

function hsl(h: number, s: number, l: number): string {
  const k = (n: number) => (n + h / 30) % 12;
  const a = s * Math.min(l, 1 - l);
  const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1));
  return toHex([f(0) * 255, f(8) * 255, f(4) * 255]);
}

function parse(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toHex(rgb: number[]): string {
  return "#" + rgb.map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0")).join("");
}

/** Lighter (amount > 0) or darker (amount < 0). */
export function shade(hex: string, amount: number): string {
  const rgb = parse(hex);
  return toHex(rgb.map((v) => (amount >= 0 ? v + (255 - v) * amount : v * (1 + amount))));
}

export function mix(a: string, b: string, t: number): string {
  const x = parse(a);
  const y = parse(b);
  return toHex(x.map((v, i) => v + (y[i]! - v) * t));
}

export function luminance(hex: string): number {
  const [r, g, b] = parse(hex);
  return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
}
