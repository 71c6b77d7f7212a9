// Testcontainers as this project runs it, loaded through one door. Testcontainers reads its
// configuration from the environment once, when first loaded: offline there is no reaper image to
// pull (every topology and test removes what it started itself), and the ports it maps are reached
// on this machine. A value the user set wins.
const OFFLINE_DEFAULTS = {
  TESTCONTAINERS_RYUK_DISABLED: 'true',
  TESTCONTAINERS_HOST_OVERRIDE: 'localhost',
} as const;

export async function loadTestcontainers(): Promise<typeof import('testcontainers')> {
  for (const [name, value] of Object.entries(OFFLINE_DEFAULTS)) process.env[name] ??= value;
  return import('testcontainers');
}
