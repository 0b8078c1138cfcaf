import type { GateInspection } from 'tinylm-js';

export interface LessonInspection {
  pieces: string[];
  layers: number;
  hiddenSize: number;
  gateNames: string[];
  units: number[][];        // [l][k] which hidden units are shown
  hidden: number[][][];     // [l][n][k]
  gates: number[][][][];    // [l][g][n][k]
}

export function summarise(inspection: GateInspection, unitsPerLayer?: number): LessonInspection;
