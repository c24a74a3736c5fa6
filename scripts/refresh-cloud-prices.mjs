#!/usr/bin/env node
// Refreshes src/orchestrator/clouds/price-table.ts: the on-demand hourly prices of the AWS and GCP
// sizes in it, read from the providers' price APIs, with today's date. Not run in CI (it needs
// network access and credentials):
//   AWS: the Price List Query API (pricing:GetProducts) through @aws-sdk/client-pricing with the
//        SDK's usual credential chain (npm install --no-save @aws-sdk/client-pricing first);
//   GCP: the Cloud Billing Catalog API with an API key in GOOGLE_BILLING_API_KEY (Compute Engine's
//        per-vCPU and per-GB SKUs; a machine type's price is vCPUs × core + GB × RAM).
// Usage: node scripts/refresh-cloud-prices.mjs [--aws-only|--gcp-only]
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TABLE_FILE = fileURLToPath(new URL("../src/orchestrator/clouds/price-table.ts", import.meta.url));
const COMPUTE_SERVICE = "services/6F81-5844-456A"; // Compute Engine in the Billing Catalog
const today = new Date().toISOString().slice(0, 10);
const source = readFileSync(TABLE_FILE, "utf8");

/** The size → price map literal named `name` in the table file, as an object. */
function readMap(name) {
  const m = new RegExp(`const ${name} = (\\{[\\s\\S]*?\\});`).exec(source);
  if (!m) throw new Error(`${name} not found in ${TABLE_FILE}`);
  return Function(`return ${m[1]}`)();
}

function writeMap(text, name, map) {
  const body = Object.entries(map).map(([k, v]) => `  "${k}": ${Number(v.toFixed(6))},`).join("\n");
  return text.replace(new RegExp(`const ${name} = \\{[\\s\\S]*?\\};`), `const ${name} = {\n${body}\n};`);
}

async function awsPrices(sizes, region) {
  const { PricingClient, GetProductsCommand } = await import("@aws-sdk/client-pricing");
  const client = new PricingClient({ region: "us-east-1" }); // the Price List API's own endpoint
  const out = {};
  for (const size of sizes) {
    const filters = { instanceType: size, regionCode: region, operatingSystem: "Linux", tenancy: "Shared", preInstalledSw: "NA", capacitystatus: "Used" };
    const res = await client.send(new GetProductsCommand({
      ServiceCode: "AmazonEC2", Filters: Object.entries(filters).map(([Field, Value]) => ({ Type: "TERM_MATCH", Field, Value })),
    }));
    const product = JSON.parse(res.PriceList?.[0] ?? "null");
    const dims = product && Object.values(product.terms.OnDemand).flatMap((t) => Object.values(t.priceDimensions));
    const usd = dims?.find((d) => d.unit === "Hrs")?.pricePerUnit?.USD;
    if (usd === undefined) console.warn(`aws: no on-demand price for ${size} in ${region}; kept the old one`);
    else out[size] = Number(usd);
  }
  return out;
}

async function gcpPrices(sizes, region) {
  const key = process.env.GOOGLE_BILLING_API_KEY;
  if (!key) throw new Error("set GOOGLE_BILLING_API_KEY to a key allowed to call the Cloud Billing API");
  const skus = [];
  for (let page = ""; ; ) {
    const res = await fetch(`https://cloudbilling.googleapis.com/v1/${COMPUTE_SERVICE}/skus?key=${key}&pageSize=5000${page ? `&pageToken=${page}` : ""}`);
    if (!res.ok) throw new Error(`Billing Catalog answered HTTP ${res.status}`);
    const body = await res.json();
    skus.push(...body.skus);
    if (!body.nextPageToken) break;
    page = body.nextPageToken;
  }
  const unitPrice = (family, resource) => {
    const sku = skus.find((s) => s.serviceRegions.includes(region) && s.category.usageType === "OnDemand" && s.category.resourceGroup === resource
      && s.description.startsWith(`${family.toUpperCase()} Instance`));
    const p = sku?.pricingInfo[0]?.pricingExpression.tieredRates.at(-1)?.unitPrice;
    return p ? Number(p.units) + p.nanos / 1e9 : undefined;
  };
  const SHAPES = { "e2-micro": [0.25, 1], "e2-small": [0.5, 2], "e2-medium": [1, 4] }; // shared-core: fractional vCPU
  const out = {};
  for (const size of sizes) {
    const family = size.split("-")[0];
    const m = /-(standard|highmem|highcpu)-(\d+)$/.exec(size);
    const [vcpus, gb] = SHAPES[size] ?? (m ? [Number(m[2]), Number(m[2]) * { standard: 4, highmem: 8, highcpu: 1 }[m[1]]] : [undefined, undefined]);
    const core = unitPrice(family, "CPU"), ram = unitPrice(family, "RAM");
    if (vcpus === undefined || core === undefined || ram === undefined) console.warn(`gcp: no price for ${size} in ${region}; kept the old one`);
    else out[size] = vcpus * core + gb * ram;
  }
  return out;
}

let text = source;
const only = process.argv[2];
if (only !== "--gcp-only") {
  const old = readMap("AWS_US_EAST");
  text = writeMap(text, "AWS_US_EAST", { ...old, ...(await awsPrices(Object.keys(old), "us-east-1")) });
  text = text.replace(/(export const AWS_PRICES[\s\S]*?date: ")[\d-]+/, `$1${today}`);
}
if (only !== "--aws-only") {
  const old = readMap("GCP_US_CENTRAL");
  text = writeMap(text, "GCP_US_CENTRAL", { ...old, ...(await gcpPrices(Object.keys(old), "us-central1")) });
  text = text.replace(/(export const GCP_PRICES[\s\S]*?date: ")[\d-]+/, `$1${today}`);
}
writeFileSync(TABLE_FILE, text);
console.log(`price-table.ts refreshed (${today}); review the diff before committing`);
