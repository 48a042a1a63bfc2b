// Aggregating usage report rows in the browser. Runtime reports name token fields
// `input_tokens`…, workspace reports `total_input_tokens`…; both become one accumulator.
// Dollar amounts are summed as integer micro-dollars (the API's precision), so totals are
// exact and a sum with no priced row stays null ("unpriced"), never $0.

export function modelKey(row) {
  return row.provider ? `${row.provider}/${row.model}` : row.model;
}

export function emptyAcc() {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, costMicros: 0, priced: false, unpriced: 0, savingsMicros: 0, tasks: 0, rows: 0 };
}

const micros = (usd) => Math.round(usd * 1e6);

/** Adds one report row into `acc` and returns acc. */
export function addRow(acc, r) {
  acc.input += r.input_tokens ?? r.total_input_tokens ?? 0;
  acc.output += r.output_tokens ?? r.total_output_tokens ?? 0;
  acc.cacheRead += r.cache_read_tokens ?? r.total_cache_read_tokens ?? 0;
  acc.cacheWrite += r.cache_write_tokens ?? r.total_cache_write_tokens ?? 0;
  if (r.cost_usd !== null && r.cost_usd !== undefined) {
    acc.costMicros += micros(r.cost_usd);
    acc.priced = true;
  }
  acc.unpriced += r.unpriced_tokens || 0;
  acc.savingsMicros += r.cache_savings_usd ? micros(r.cache_savings_usd) : 0;
  acc.tasks += r.task_count || 0;
  acc.rows += 1;
  return acc;
}

/** The accumulator's cost in USD, or null when nothing in it had a price. */
export function cost(acc) {
  return acc.priced ? acc.costMicros / 1e6 : null;
}

export function savings(acc) {
  return acc.savingsMicros / 1e6;
}

export function tokens(acc) {
  return acc.input + acc.output + acc.cacheRead + acc.cacheWrite;
}

/** Cache reads as a share of all prompt tokens (input + cache reads + cache writes). */
export function hitRate(acc) {
  const prompt = acc.input + acc.cacheRead + acc.cacheWrite;
  return prompt ? acc.cacheRead / prompt : null;
}

/** Groups rows by key(row) into accumulators: Map key → acc. */
export function groupBy(rows, key) {
  const out = new Map();
  for (const r of rows) {
    const k = key(r);
    if (!out.has(k)) out.set(k, emptyAcc());
    addRow(out.get(k), r);
  }
  return out;
}

/** One accumulator over all rows. */
export function total(rows) {
  return rows.reduce(addRow, emptyAcc());
}

/**
 * Series (one per provider/model) ordered by their total in `rows`, largest first, for
 * charts, legends and per-model tables: [{key, provider, model, label, acc}].
 */
export function seriesOf(rows, metric) {
  const byKey = new Map();
  for (const r of rows) {
    const key = modelKey(r);
    if (!byKey.has(key)) byKey.set(key, { key, provider: r.provider || '', model: r.model, acc: emptyAcc() });
    addRow(byKey.get(key).acc, r);
  }
  const value = (acc) => (metric === 'tokens' ? tokens(acc) : acc.costMicros);
  return [...byKey.values()]
    .sort((a, b) => value(b.acc) - value(a.acc) || tokens(b.acc) - tokens(a.acc) || a.key.localeCompare(b.key))
    .map((se) => ({ ...se, label: se.acc.priced ? se.model : `${se.model} (unpriced)` }));
}

/**
 * Gives each series the colour index of its model in `palette` (model → index), so a model
 * keeps its colour across the charts of a page; unknown models take the next free indexes.
 */
export function colourBy(series, palette) {
  for (const se of series) {
    if (!palette.has(se.model)) palette.set(se.model, palette.size);
    se.color = palette.get(se.model);
  }
  return series;
}

/** The value a chart plots for an accumulator: dollars, or all tokens. */
export function metricValue(acc, metric) {
  if (!acc) return 0;
  return metric === 'tokens' ? tokens(acc) : acc.costMicros / 1e6;
}
