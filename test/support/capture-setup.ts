// Runs before every test file (vitest setupFiles): every value the bot registers with the
// redactor (config secrets, users' saved OpenRouter keys) is also a value the secret scan
// must never find in the suite's logs, messages or audit rows.
import { secrets } from "../../src/secrets.js";
import { captureSecret } from "./capture.js";

const add = secrets.add.bind(secrets);
secrets.add = (value) => {
  captureSecret(value);
  add(value);
};
