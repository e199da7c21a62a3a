// Module shapes for files imported as text or as embedded files (see bun build --compile), and for
// packages that ship no types.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.html" {
  const path: string;
  export default path;
}
declare module "*/web/app.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "archiver" {
  import type { Readable } from "node:stream";
  export class ZipArchive extends Readable {
    constructor(options?: { zlib?: { level?: number } });
    file(path: string, data: { name: string; date?: Date }): this;
    finalize(): Promise<void>;
  }
}
