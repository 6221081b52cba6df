// The subset of the WebAssembly global that speech.ts uses. TypeScript declares
// WebAssembly only in lib.dom, and @types/node 20 does not declare it, so without
// this the build fails on a clean checkout.
declare namespace WebAssembly {
  interface Module {}
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  type Imports = Record<string, Record<string, unknown>>;
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
  function instantiate(module: Module, imports?: Imports): Promise<Instance>;
}
