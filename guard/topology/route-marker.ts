// Every route the guard creates carries FNG_ROUTE=<app><path> in its config. Fn-compatible nodes hand
// a route's config to its function as environment, so each function container says which route it
// runs, whatever the node build: the engine-side counters read it, and the containers topology's
// teardown finds a run's leftovers by it (the app names start with the run's prefix).
export const ROUTE_MARKER = 'FNG_ROUTE';
