/** Synthetic plant signals: deterministic for a given time, so runs can be compared. */
export interface SimTag {
  name: string;
  value(tMs: number, device: number): number | boolean | string;
}

const MINUTE_MS = 60_000;
const STATES = ['running', 'idle', 'cleaning', 'running', 'running'] as const;

export const SIM_TAGS: SimTag[] = [
  { name: 'temperature', value: (t, d) => round(65 + 8 * Math.sin((2 * Math.PI * t) / MINUTE_MS + d) + jitter(t, d, 0.3), 2) },
  { name: 'pressure', value: (t, d) => round(2.4 + 0.2 * Math.cos((2 * Math.PI * t) / (2 * MINUTE_MS) + d), 3) },
  { name: 'speed_rpm', value: (t, d) => Math.round(1450 + 40 * Math.sin((2 * Math.PI * t) / (5 * MINUTE_MS) + d)) },
  { name: 'running', value: (t, d) => Math.floor(t / (3 * MINUTE_MS) + d) % 7 !== 0 },
  { name: 'state', value: (t, d) => STATES[Math.floor(t / MINUTE_MS + d) % STATES.length] ?? 'idle' },
];

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A cheap deterministic wobble in [-amp, amp]. */
function jitter(t: number, d: number, amp: number): number {
  const x = Math.sin(t * 12.9898 + d * 78.233) * 43758.5453;
  return (x - Math.floor(x) - 0.5) * 2 * amp;
}
