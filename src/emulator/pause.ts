import { setTimeout as sleep } from 'node:timers/promises';

/** Waits ms; false when the emulator closed meanwhile. */
export async function pause(ms: number, closing: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal: closing });
    return true;
  } catch {
    return false;
  }
}
