// On-demand hourly list prices of the AWS and GCP sizes spawnbot picks, for clouds whose price APIs
// need credentials the bot may not have (AWS Price List, GCP Cloud Billing Catalog). Dated: every
// price shown from here says "price table of <date>". Refresh with scripts/refresh-cloud-prices.mjs
// (it rewrites the TABLE below from the providers' public price lists; it needs network access).
// Linux, on-demand, no reservations or discounts; USD as both bill.

export interface PriceTable {
  /** The day the prices were read (YYYY-MM-DD). */
  date: string;
  currency: "USD";
  /** Where they were read from. */
  from: string;
  /** region → size → USD per hour */
  regions: Record<string, Record<string, number>>;
}

const AWS_US_EAST = {
  "t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416, "t3.large": 0.0832, "t3.xlarge": 0.1664, "t3.2xlarge": 0.3328,
  "t3a.nano": 0.0047, "t3a.micro": 0.0094, "t3a.small": 0.0188, "t3a.medium": 0.0376, "t3a.large": 0.0752, "t3a.xlarge": 0.1504, "t3a.2xlarge": 0.3008,
  "t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168, "t4g.medium": 0.0336, "t4g.large": 0.0672, "t4g.xlarge": 0.1344, "t4g.2xlarge": 0.2688,
  "m7i.large": 0.1008, "m7i.xlarge": 0.2016, "m7i.2xlarge": 0.4032,
  "c7i.large": 0.0893, "c7i.xlarge": 0.1785, "c7i.2xlarge": 0.357,
};

export const AWS_PRICES: PriceTable = {
  date: "2026-12-04",
  currency: "USD",
  from: "AWS Price List (AmazonEC2 offer, Linux on-demand, shared tenancy)",
  regions: { "us-east-1": AWS_US_EAST, "us-east-2": AWS_US_EAST, "us-west-2": AWS_US_EAST },
};

const GCP_US_CENTRAL = {
  "e2-micro": 0.008376, "e2-small": 0.016751, "e2-medium": 0.033503,
  "e2-standard-2": 0.067006, "e2-standard-4": 0.134012, "e2-standard-8": 0.268024,
  "n2-standard-2": 0.097118, "n2-standard-4": 0.194236, "n2-standard-8": 0.388472,
};

export const GCP_PRICES: PriceTable = {
  date: "2026-12-04",
  currency: "USD",
  from: "Google Cloud Billing Catalog (Compute Engine, on-demand)",
  regions: { "us-central1": GCP_US_CENTRAL, "us-east1": GCP_US_CENTRAL, "us-west1": GCP_US_CENTRAL },
};
