import { setFlagsFromString } from 'node:v8';

/** V8's default: the young generation doubles each time a scavenge finds it too small. */
const DEFAULT_GROWTH_FACTOR = 2;

/**
 * Keeps V8's young generation at its starting size while the gateway boots, and lets it grow as
 * usual once it serves. Loading ~2,000 modules makes most of what boot allocates survive its
 * scavenges, so V8 grows the young generation to its 32 MB maximum and keeps it resident (it
 * gives it back only after ~16 s idle): about 17 MB of the idle RSS, for garbage. Held at its
 * start size, the boot's survivors go to old space (+6 MB) in more, smaller scavenges, at no
 * measured cost in cold start. Under load after boot, the young generation grows as it always did
 * (the growth factor is read at each growth), so throughput is not traded for it.
 * (`--max-semi-space-size` would cap it for the process's whole life instead.)
 * Returns the release, to call once the gateway listens; it is idempotent.
 */
export function holdYoungGenerationDuringBoot(): () => void {
  setFlagsFromString('--semi-space-growth-factor=1');
  let released = false;
  return () => {
    if (released) return;
    released = true;
    setFlagsFromString(`--semi-space-growth-factor=${DEFAULT_GROWTH_FACTOR}`);
  };
}
