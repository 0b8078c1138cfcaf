// Reduces an Inspection (web/lib/protocol.ts) to what a lesson heatmap shows: per layer, the `unitsPerLayer`
// hidden units whose state varies most over the text, and those units' hidden state and gate activations per
// character. Shared by the pages (live results) and tools/precompute-lessons.mjs (the examples shown first).
//   inspection.hidden  (N, L, H)      inspection.gates  (N, L, G·H)
// Result arrays: units[l][k], hidden[l][n][k], gates[l][g][n][k], rounded to 3 decimals.
export function summarise(inspection, unitsPerLayer = 16) {
  const { pieces, layers, gateCount, hiddenSize, gateNames } = inspection;
  const N = pieces.length;
  const round = (value) => Math.round(value * 1000) / 1000;
  const hiddenAt = (n, l, h) => inspection.hidden[(n * layers + l) * hiddenSize + h];
  const gateAt = (n, l, g, h) => inspection.gates[(n * layers + l) * gateCount * hiddenSize + g * hiddenSize + h];
  const units = [], hidden = [], gates = [];
  for (let l = 0; l < layers; l++) {
    const spread = [];
    for (let h = 0; h < hiddenSize; h++) {
      let sum = 0, squares = 0;
      for (let n = 0; n < N; n++) {
        sum += hiddenAt(n, l, h);
        squares += hiddenAt(n, l, h) ** 2;
      }
      spread.push([squares / N - (sum / N) ** 2, h]);
    }
    const chosen = spread.sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, unitsPerLayer).map(([, h]) => h).sort((a, b) => a - b);
    units.push(chosen);
    hidden.push(Array.from({ length: N }, (_, n) => chosen.map((h) => round(hiddenAt(n, l, h)))));
    gates.push(Array.from({ length: gateCount }, (_, g) => Array.from({ length: N }, (_, n) => chosen.map((h) => round(gateAt(n, l, g, h))))));
  }
  return { pieces: [...pieces], layers, hiddenSize, gateNames: [...gateNames], units, hidden, gates };
}
