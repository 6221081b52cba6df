// espeak-ng ships no types: an Emscripten module factory.
declare module "espeak-ng" {
  interface EspeakModule {
    FS: { readFile(path: string): Uint8Array };
  }
  interface EspeakOptions {
    arguments: string[];
    print?: (s: string) => void;
    printErr?: (s: string) => void;
    /** Emscripten's hook to instantiate the WebAssembly with the caller's imports. */
    instantiateWasm?: (
      imports: Record<string, Record<string, unknown>>,
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) => object;
  }
  const factory: (options: EspeakOptions) => Promise<EspeakModule>;
  export default factory;
}
