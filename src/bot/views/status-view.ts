// Builds the platform-neutral status view of a spawn from its stored record and steps.
import { STEPS } from "../../orchestrator/index.js";
import type { SpawnRecord, StepRecord } from "../store/index.js";
import { repoLabel } from "./format.js";
import type { RemovalKind, StatusView } from "./views.js";

const STEP_TITLES = new Map(STEPS.map((s) => [s.name, s.title]));
/**
 * Step titles that would misdescribe a place the bot did not make: no server is provisioned on a
 * host the user keeps or on the bot's own host, and the bot's own host is reached without SSH.
 */
const PLACE_TITLES: Partial<Record<RemovalKind, Record<string, string>>> = {
  host: { provision: "Choose the host" },
  local: { provision: "Choose the host", "wait-ssh": "Open a local shell" },
};
/** Details a place-specific title already says. */
const SAID_BY_TITLE = new Set(["local shell"]);

export function buildStatusView(
  rec: SpawnRecord,
  steps: StepRecord[],
  names: { agent: string; cloud: string; removal?: RemovalKind },
  facts?: string[],
): StatusView {
  const verb = { ready: "spawned", deleted: "spawned", failed: "could not spawn", cancelled: "cancelled spawning" }[rec.status as string] ?? "is spawning";
  return {
    kind: "status",
    spawnId: rec.id,
    name: rec.name,
    title: `${rec.ownerName} ${verb} ${names.agent} on ${names.cloud} · ${rec.model ?? "no model"}${rec.options?.repo ? ` · ${repoLabel(rec.options.repo)}` : ""}`,
    requester: rec.ownerName,
    requesterId: rec.ownerId,
    agent: names.agent,
    cloud: names.cloud,
    model: rec.model ?? "",
    status: rec.status,
    steps: steps
      .filter((s) => s.state !== "skipped")
      .map((s) => ({
        name: s.name,
        title: (names.removal && PLACE_TITLES[names.removal]?.[s.name]) ?? STEP_TITLES.get(s.name) ?? s.name,
        state: s.state,
        detail: s.detail && !SAID_BY_TITLE.has(s.detail) ? s.detail : undefined,
        durationMs: s.startedAt && s.endedAt ? s.endedAt - s.startedAt : undefined,
      })),
    warnings: steps.filter((s) => s.state === "warned" && s.detail).map((s) => `${s.name}: ${s.detail}`),
    result: resultOf(rec),
    facts,
    ...(names.removal ? { removal: names.removal } : {}),
  };
}

function resultOf(rec: SpawnRecord): StatusView["result"] {
  switch (rec.status) {
    case "ready":
      return { outcome: "ready", message: `${rec.name} is ready; the connect command was sent privately to ${rec.ownerName}` };
    case "failed":
      return { outcome: "failed", message: `${rec.name} failed: ${rec.error ?? "unknown error"}` };
    case "cancelled":
      return { outcome: "cancelled", message: `${rec.name} was cancelled; what it made was removed` };
    case "deleted":
      return { outcome: "deleted", message: `${rec.name} was deleted` };
    case "deleting": // set by recovery when what the spawn made could not be removed yet
      return rec.error ? { outcome: "failed", message: `${rec.name}: ${rec.error}` } : undefined;
    default:
      return undefined;
  }
}
