// The balancer under test as a parameter: a command line (processes topology, the balancerCommand
// setting) or an image's arguments (containers topology, balancerArgs) with placeholders the topology
// fills in:
//   {listen}            host:port the balancer must serve calls on
//   {mgmt}              host:port for its management API (when the template has no {mgmt}, the
//                       suite looks for the API on {listen})
//   {nodes}             the nodes, host:port,host:port,...
//   {hc_interval}       whole seconds between health checks
//   {upstream_timeout}  whole seconds to wait for a node's answer
// Whole seconds, because the historic Go fnlb reads -hc-interval as an integer. The suite knows a
// balancer's health interval and upstream timeout only when its template takes them; properties that
// need them say so when they do not.

export interface BalancerPlaceholders {
  listen: string;
  mgmt: string;
  nodes: readonly string[];
  hcIntervalS: number;
  upstreamTimeoutS: number;
}

/** Health checks every second: a killed node is noticed within a few seconds. */
export const HC_INTERVAL_S = 1;
/** Long enough for the suite's slowest calls (a 1 s function behind a herd of cold starts). */
export const UPSTREAM_TIMEOUT_S = 20;

export const BALANCER_PLACEHOLDERS = ['listen', 'mgmt', 'nodes', 'hc_interval', 'upstream_timeout'] as const;
type Name = (typeof BALANCER_PLACEHOLDERS)[number];

/**
 * fnlb's arguments: only flags the historic Go fnlb also takes, plus the upstream timeout for ours, and
 * two workers whatever the machine's cores, so every property is judged across processes that each
 * bound loads by their own counts.
 */
export const FNLB_ARGS = '-nodes {nodes} -listen {listen} -hc-interval {hc_interval}';
export const PROJECT_FNLB_ARGS = `${FNLB_ARGS} -upstream-timeout {upstream_timeout} -workers 2`;

export function uses(template: string, name: Name): boolean {
  return template.includes(`{${name}}`);
}

/** Fills the placeholders; an unknown {name} is an error naming it and the variable it came from. */
export function expand(template: string, values: BalancerPlaceholders, source: string): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    switch (name as Name) {
      case 'listen':
        return values.listen;
      case 'mgmt':
        return values.mgmt;
      case 'nodes':
        return values.nodes.join(',');
      case 'hc_interval':
        return String(values.hcIntervalS);
      case 'upstream_timeout':
        return String(values.upstreamTimeoutS);
      default:
        throw new Error(
          `${source}: unknown placeholder ${whole}; known: ${BALANCER_PLACEHOLDERS.map((n) => `{${n}}`).join(' ')}`,
        );
    }
  });
}

/** Splits an argument template on spaces into argv (placeholders expand to values without spaces). */
export function argv(template: string, values: BalancerPlaceholders, source: string): string[] {
  return expand(template, values, source).split(/\s+/).filter(Boolean);
}
