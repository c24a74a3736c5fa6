// The store contract (test/contracts/store-contract.ts) on the embedded default: a real SQLite file.
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { openStore } from "../src/bot/store/index.js";
import { describeStoreContract } from "./contracts/store-contract.js";

const newFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), "spawnbot-contract-")), "spawnbot.db");

describeStoreContract("SQLite", {
  open: () => openStore(newFile()),
  openPair() {
    const file = newFile();
    return [openStore(file), openStore(file)];
  },
});
