import { registryResolver } from "../../engine/models/resolvers.ts";
import type { ModelResolver } from "../../engine/models/types.ts";
import type { ServerContext } from "../context.ts";

/** Model ids resolved against the server's registry (the data dir's models). */
export const serverModelResolver = (ctx: ServerContext): ModelResolver =>
  registryResolver((id) => ctx.store.getModel(id), ctx.staging.modelsDir);
