import { resolveConfig, type Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import { ApiClient } from "./client.ts";

/** What commands get from the CLI's entry: configuration (flags over env over file) and an API client. */
export interface CliContext {
  config(flags: Record<string, unknown>): Readonly<Config>;
  client(flags: Record<string, unknown>): ApiClient;
  usage(message: string): AppError;
}

export const usageError = (message: string) => new AppError("USAGE", message, 2);

export function makeCliContext(env: Record<string, string | undefined>): CliContext {
  const config = (flags: Record<string, unknown>) =>
    resolveConfig({ flags, env, configFile: typeof flags.config === "string" ? flags.config : undefined });
  return {
    config,
    client(flags) {
      const c = config({ apiUrl: flags.apiUrl, apiKey: flags.apiKey, config: flags.config });
      return new ApiClient(c.apiUrl, c.apiKey);
    },
    usage: usageError,
  };
}

/** A required option's value as a string (cac turns numeric-looking values into numbers). */
export function requireOption(o: Record<string, unknown>, key: string, flag: string): string {
  const v = o[key];
  if (v === undefined || v === null || v === "" || v === true) throw usageError(`${flag} is required`);
  return String(Array.isArray(v) ? v[v.length - 1] : v);
}

/** `--limit N` of a listing: a positive whole number, or no limit. */
export function limitOf(o: Record<string, unknown>): number {
  if (o.limit === undefined) return Infinity;
  const n = Number(o.limit);
  if (!Number.isInteger(n) || n < 1) throw usageError(`--limit must be a positive whole number (got ${o.limit})`);
  return n;
}
