// archiver's `append` (buffers and streams), which the shared declaration in src/types.d.ts leaves out.
declare module "archiver" {
  interface ZipArchive {
    append(source: Buffer | import("node:stream").Readable, data: { name: string; date?: Date; store?: boolean }): this;
  }
}
