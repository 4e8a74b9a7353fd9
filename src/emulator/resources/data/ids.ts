/** Deterministic ids and timestamps for the sample data: the same every run, so tests may name them. */
import { createHash } from 'node:crypto';

export const CREATED_AT = '2024-03-14T09:26:53.000Z';
export const UPDATED_AT = '2025-01-20T16:02:11.000Z';

export function stableHex(seed: string, length = 32): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

export function stableUuid(seed: string): string {
  const h = stableHex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function indices(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** The i-th element of a non-empty list, wrapping around. */
export function pick<L extends readonly [unknown, ...unknown[]]>(list: L, i: number): L[number] {
  return list[i % list.length] ?? list[0];
}

/** The workspace every sample belongs to (the demo client's classic-endpoint workspace is another). */
export const SAMPLE_WORKSPACE_ID = stableHex('workspace');
export const SAMPLE_WORKSPACE_NAME = 'Emulated Workspace';
