// The shape of spawns.options as every store reads it back (a JSON column): what a request asked
// for beyond the columns, kept so a restarted bot can continue the run (SpawnOptions).
import * as v from "valibot";

export const SpawnOptionsSchema = v.object({
  host: v.optional(v.object({ user: v.string(), host: v.string(), port: v.number() })),
  steps: v.optional(v.array(v.string())),
  repo: v.optional(v.object({ url: v.string(), ref: v.optional(v.string()), dir: v.string(), display: v.string() })),
});
