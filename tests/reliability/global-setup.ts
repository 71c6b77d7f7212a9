// Vitest globalSetup of the reliability project: builds dist/ (the nodes, balancers and functions its
// files start run the compiled code). Each file starts its own Postgres and processes: its faults
// (a database restart, nodes and balancer stopped) must reach nothing another file uses.
import { buildDist } from '../../helpers/build.js';

export default async function setup(): Promise<void> {
  await buildDist('reliability');
}
