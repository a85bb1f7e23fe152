// status.ts: whether the addon or the twin serves, and why.
import { addon, fallbackReason } from './binding';

/** True when the native addon loaded; false when the TypeScript twin serves. */
export const native: boolean = addon !== null;

/** Why the twin serves (null when the addon loaded). */
export function nativeStatus(): { native: boolean; reason: string | null } {
  return { native, reason: fallbackReason };
}
