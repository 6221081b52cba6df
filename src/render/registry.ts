import type { Renderer } from "./types.js";
import { RendererUnavailableError } from "./types.js";

export const RENDERER_NAMES = ["local", "vimmerse", "test"] as const;
export type RendererName = (typeof RENDERER_NAMES)[number];

export interface RendererChoice {
  name: string;
  /** Renderer options from the command line (quality, ...). */
  options?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
}

/** Loads a renderer by name; each is imported only when chosen. */
export async function loadRenderer(choice: RendererChoice): Promise<Renderer> {
  const env = choice.env ?? process.env;
  switch (choice.name) {
    case "local": {
      const { LocalRenderer } = await import("./local/index.js");
      return new LocalRenderer(choice.options ?? {}, env);
    }
    case "vimmerse": {
      const { VimmerseRenderer } = await import("./vimmerse/index.js");
      const port = choice.options?.webhookPort;
      return new VimmerseRenderer({ env, ...(typeof port === "number" ? { webhookPort: port } : {}) });
    }
    case "test": {
      const { TestRenderer } = await import("./test-renderer.js");
      return new TestRenderer({
        delayMs: Number(env.STORYC_TEST_RENDER_MS ?? 0) || 0,
        ...(env.STORYC_TEST_CONTROL ? { control: env.STORYC_TEST_CONTROL } : {}),
        ...(env.STORYC_TEST_CONTROL_NODES ? { held: env.STORYC_TEST_CONTROL_NODES.split(",") } : {}),
      });
    }
    default:
      throw new RendererUnavailableError(`there is no renderer named "${choice.name}"`, `choose one of: ${RENDERER_NAMES.join(", ")}`);
  }
}
