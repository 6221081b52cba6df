// espeak-ng ships no types: an Emscripten module factory.
declare module "espeak-ng" {
  export interface EspeakStream {
    fd: number;
  }
  export interface EspeakModule {
    FS: {
      readFile(path: string): Uint8Array;
      unlink(path: string): void;
      close(stream: EspeakStream): void;
      streams: Array<EspeakStream | null | undefined>;
    };
  }
  export interface EspeakOptions {
    arguments?: string[];
    /** Only sets the module up: main is not run. */
    noInitialRun?: boolean;
    /** argv[0]; by default, in Node, the path of the script that started the process. */
    thisProgram?: string;
    /** How the program's exit() ends it; by default, in Node, it also sets process.exitCode. */
    quit?: (status: number, toThrow: Error) => never;
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
