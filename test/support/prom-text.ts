// A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that scrape
// /metrics: it throws on anything a Prometheus server would reject or that the format forbids
// (bad names, bad escapes, a TYPE after its samples, a family split in two, duplicate series,
// histogram buckets that are not cumulative). https://prometheus.io/docs/instrumenting/exposition_formats/

export type MetricKind = "counter" | "gauge" | "histogram" | "summary" | "untyped";
export interface PromSample { name: string; labels: Record<string, string>; value: number }
export interface PromFamily { name: string; type: MetricKind; help?: string; samples: PromSample[] }

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const KINDS = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** As Prometheus reads values (Go's strconv.ParseFloat): NaN and Inf in any case (prom-client writes "Nan"). */
function parseValue(text: string, line: number): number {
  if (/^nan$/i.test(text)) return NaN;
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`line ${line}: "${text}" is not a sample value`);
  return Number(text);
}

/** Labels inside braces: name="value" pairs, escapes \\ \" \n only, an optional trailing comma. */
function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`line ${line}: label without a value in {${text}}`);
    const name = text.slice(i, eq).trim();
    if (!LABEL_NAME.test(name)) throw new Error(`line ${line}: bad label name "${name}"`);
    if (name in labels) throw new Error(`line ${line}: label ${name} given twice`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label ${name}'s value is not quoted`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "\\" || next === '"') value += next;
        else if (next === "n") value += "\n";
        else throw new Error(`line ${line}: bad escape \\${next} in label ${name}`);
      } else value += text[j];
    }
    if (j >= text.length) throw new Error(`line ${line}: unterminated value of label ${name}`);
    labels[name] = value;
    i = j + 1;
    if (i < text.length) {
      if (text[i] !== ",") throw new Error(`line ${line}: expected "," after label ${name}`);
      i++;
    }
  }
  return labels;
}

/** The family a sample name belongs to: histograms and summaries add _bucket, _sum and _count. */
function familyOf(name: string, families: Map<string, PromFamily>): PromFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === "histogram" || (f.type === "summary" && suffix !== "_bucket"))) return f;
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const enter = (family: string, line: number) => {
    if (family === current) return;
    if (closed.has(family)) throw new Error(`line ${line}: metric ${family} appears again after other metrics`);
    if (current) closed.add(current);
    current = family;
  };
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") return;
    if (raw.startsWith("#")) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!m) return; // a plain comment
      const [, keyword, name, rest = ""] = m;
      if (!METRIC_NAME.test(name!)) throw new Error(`line ${line}: bad metric name "${name}"`);
      enter(name!, line);
      let family = families.get(name!);
      if (keyword === "TYPE") {
        if (!KINDS.has(rest.trim())) throw new Error(`line ${line}: unknown type "${rest}"`);
        if (family?.samples.length) throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        if (family?.type !== undefined && family.type !== "untyped") throw new Error(`line ${line}: second TYPE for ${name}`);
        family = { ...(family ?? { name: name!, samples: [] }), type: rest.trim() as MetricKind };
      } else {
        if (family?.help !== undefined) throw new Error(`line ${line}: second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`line ${line}: bad escape in HELP of ${name}`);
        family = { ...(family ?? { name: name!, type: "untyped", samples: [] }), help: rest.replace(/\\n/g, "\n").replace(/\\\\/g, "\\") };
      }
      families.set(name!, family);
      return;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${raw}`);
    const [, name, labelText = "", valueText] = m;
    const labels = parseLabels(labelText, line);
    let family = familyOf(name!, families);
    if (!family) families.set(name!, (family = { name: name!, type: "untyped", samples: [] }));
    enter(family.name, line);
    const key = `${name}{${Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(",")}}`;
    if (seriesSeen.has(key)) throw new Error(`line ${line}: duplicate series ${key}`);
    seriesSeen.add(key);
    if (family.type === "histogram" && name!.endsWith("_bucket") && labels.le === undefined) throw new Error(`line ${line}: histogram bucket without le`);
    if (family.type === "summary" && name === family.name && labels.quantile === undefined) throw new Error(`line ${line}: summary sample without quantile`);
    family.samples.push({ name: name!, labels, value: parseValue(valueText!, line) });
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** Buckets cumulative per label set, ending in +Inf equal to _count. */
function checkHistogram(f: PromFamily): void {
  const groups = new Map<string, PromSample[]>();
  for (const s of f.samples) {
    if (s.name !== `${f.name}_bucket`) continue;
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const [key, buckets] of groups) {
    const sorted = [...buckets].sort((a, b) => parseValue(a.labels.le!, 0) - parseValue(b.labels.le!, 0));
    sorted.forEach((b, i) => { if (i > 0 && b.value < sorted[i - 1]!.value) throw new Error(`${f.name}${key}: buckets are not cumulative`); });
    const inf = sorted.at(-1)!;
    if (inf.labels.le !== "+Inf") throw new Error(`${f.name}${key}: no +Inf bucket`);
    const count = f.samples.find((s) => s.name === `${f.name}_count` && JSON.stringify(Object.entries(s.labels).sort()) === key);
    if (count?.value !== inf.value) throw new Error(`${f.name}${key}: +Inf bucket ${inf.value} differs from _count ${count?.value}`);
  }
}

/** The value of one series, or undefined when it is not there. */
export function sampleValue(families: Map<string, PromFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    const s = f.samples.find((x) => x.name === name && Object.keys(x.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => x.labels[k] === v));
    if (s) return s.value;
  }
  return undefined;
}
