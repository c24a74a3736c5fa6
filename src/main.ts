// Start-up: configuration and the secrets it names, then the bot process (run-bot.ts) with the real agents and clouds.
import { ConfigError, loadConfig, type Config } from "./config.js";
import { configuredClouds } from "./clouds.js";
import { AGENTS } from "./orchestrator/index.js";
import { runBot } from "./run-bot.js";
import { secrets } from "./secrets.js";

export async function main(): Promise<number> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
  return runBot(config, { agents: AGENTS, clouds: (botKey) => configuredClouds(config, botKey) });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`spawnbot crashed: ${secrets.redact(err instanceof Error ? (err.stack ?? err.message) : String(err))}\n`);
    process.exit(1);
  },
);
