// Site labels ("function | line") made once per pair: an implementation
// names a site at every preemption point and every buffer event, and the
// same label string each time keeps the hot loop from building strings
// (and lets maps keyed by site reuse the string's cached hash).

const labels = new Map<string, Map<string, string>>();

export function siteLabel(fn: string, line: string): string {
  let byLine = labels.get(fn);
  if (byLine === undefined) {
    byLine = new Map();
    labels.set(fn, byLine);
  }
  let label = byLine.get(line);
  if (label === undefined) {
    label = `${fn} | ${line}`;
    byLine.set(line, label);
  }
  return label;
}
