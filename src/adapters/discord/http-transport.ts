// Interactions that arrive by HTTP POST (the Interactions Endpoint URL) instead of the gateway.
// discord.js builds its usual interaction object from the posted payload, the adapter's own handler
// serves it exactly as one from the gateway, and the handler's first answer becomes the response.
import { Events, type Client, type Interaction } from "discord.js";
import type { Logger } from "../../log.js";
import type { FirstAnswers } from "./first-answers.js";
import type { EndpointAnswer, InteractionPayload } from "./interactions-endpoint.js";

/** How the adapter's handler ended an interaction: acted on it, or found it already claimed (a redelivery). */
export type Outcome = "acted" | "duplicate" | "failed";

// Discord waits 3 s for the response, then tells the user the interaction failed; leave network headroom.
const FIRST_ANSWER_DEADLINE_MS = 2_500;
/**
 * The answer to a redelivery of an interaction already taken (a load balancer that retried the POST
 * on another replica): a private "thinking…" reply, the one the first delivery's handler edits
 * through the same token, so whichever response reached Discord, the handler's answers land.
 */
const ALREADY_TAKEN = { type: 5, data: { flags: 64 } };

/** discord.js's own way from a payload to an interaction object: the action its gateway handler calls. */
interface ClientActions {
  actions: { InteractionCreate: { handle(data: unknown): void } };
}

export class HttpInteractions {
  constructor(
    private readonly client: Client,
    private readonly answers: FirstAnswers,
    private readonly handler: {
      accepting(): boolean;
      /** Start serving an interaction; undefined when it is not a kind the bot takes. */
      serve(i: Interaction): Promise<Outcome> | undefined;
    },
    private readonly log: Logger,
  ) {}

  async receive(payload: InteractionPayload): Promise<EndpointAnswer> {
    if (!this.handler.accepting()) return { status: 503, body: { message: "spawnbot is starting or stopping" } };
    const interaction = this.build(payload);
    if (!interaction) return { status: 400, body: { message: "not an interaction this bot takes" } };
    const first = this.answers.expect(interaction.id);
    const outcome = this.handler.serve(interaction);
    if (!outcome) {
      first.cancel();
      return { status: 400, body: { message: "not an interaction this bot takes" } };
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), FIRST_ANSWER_DEADLINE_MS)));
    const result = await Promise.race([first.answer.then((body) => ({ body })), outcome, late]);
    clearTimeout(timer);
    if (typeof result === "object") return { status: 200, body: result.body, written: first.written.bind(first) };
    first.cancel();
    if (result === "duplicate") return { status: 200, body: ALREADY_TAKEN };
    if (result === "late") this.log.warn({ interaction: interaction.id }, "an interaction had no first answer within Discord's 3 s");
    return { status: 500, body: { message: "the interaction had no answer" } };
  }

  /** The interaction discord.js builds from the payload (it emits it synchronously), or undefined for a type it does not know. */
  private build(payload: InteractionPayload): Interaction | undefined {
    let built: Interaction | undefined;
    const take = (i: Interaction) => void (built = i);
    this.client.on(Events.InteractionCreate, take);
    try {
      (this.client as unknown as ClientActions).actions.InteractionCreate.handle(payload);
    } finally {
      this.client.off(Events.InteractionCreate, take);
    }
    return built;
  }
}
