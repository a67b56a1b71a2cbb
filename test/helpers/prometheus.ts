/**
 * Reads Prometheus text the way a query would: `name` alone is the sum of every series of that
 * family, `name{a="x"}` the sum of the series whose labels include a="x" (so a `path` label
 * added beside `reason` keeps `…{reason="x"}` meaning the total over both answer paths).
 * Undefined when no series matches.
 */
export function seriesValue(text: string, query: string): number | undefined {
  const wanted = parseSeries(query);
  let total: number | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = parseSeries(line.slice(0, space));
    if (series.name !== wanted.name) continue;
    if (![...wanted.labels].every(([label, value]) => series.labels.get(label) === value)) continue;
    total = (total ?? 0) + Number(line.slice(space + 1));
  }
  return total;
}

function parseSeries(text: string): { name: string; labels: Map<string, string> } {
  const brace = text.indexOf('{');
  if (brace < 0) return { name: text, labels: new Map() };
  const labels = new Map([...text.slice(brace + 1, text.lastIndexOf('}')).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
  return { name: text.slice(0, brace), labels };
}
