// What a function container's environment says about it, read the same way from an engine's inspect
// (engine-watch.ts) and from a create request (engine-proxy.ts): the route it runs is the FNG_ROUTE
// variable the suite puts in every route's config, else Fn's FN_APP_NAME + FN_PATH.
import { ROUTE_MARKER } from '../topology/route-marker.js';

function envOf(list: readonly string[] | undefined): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of list ?? []) {
    const equals = entry.indexOf('=');
    if (equals > 0) env.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  return env;
}

/** `<app><path>` of the route a container runs, when its environment says. */
export function routeOfEnv(list: readonly string[] | undefined): string | undefined {
  const env = envOf(list);
  const app = env.get('FN_APP_NAME');
  const path = env.get('FN_PATH');
  return env.get(ROUTE_MARKER) ?? (app !== undefined && path !== undefined ? `${app}${path}` : undefined);
}

/** The name a container runs under: its HOSTNAME variable, else the Hostname of its configuration. */
export function hostnameOf(list: readonly string[] | undefined, configHostname: unknown): string {
  return envOf(list).get('HOSTNAME') ?? (typeof configHostname === 'string' ? configHostname : '');
}
