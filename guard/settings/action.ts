// action.yml, the reusable GitHub Action, as text: its inputs and the step environment that hands
// them to the guard come from the settings table (render.ts), the rest is written here once.
// generated.ts lists it with the other generated files.
import { actionInputsYaml } from './render.js';

export function actionYaml(): string {
  const { inputs, env } = actionInputsYaml();
  return `# fnlb-guard as one step of a balancer's (or node's) own pipeline: runs the guard's properties against the
# build or the running deployment the inputs name and fails the step when one fails. Generated from
# guard/settings/table.ts by \`npm run docs:guard\`: every input is a setting of the guard (see
# docs/configuration.md). Reports (fnlb-guard.json, junit.xml, logs/) land in \`reports\`; the verdict
# table goes to the job's summary page.
name: fnlb-guard
description: Guard an Fn-compatible balancer or node build - stickiness, hot reuse, no stampede, balance, failover and more - with measured values against explicit bounds.
branding:
  icon: shield
  color: blue
${inputs}
outputs:
  report:
    description: Path of the run's fnlb-guard.json.
    value: \${{ steps.guard.outputs.report }}
  verdict:
    description: pass, fail, skipped, or error when no report was written.
    value: \${{ steps.guard.outputs.verdict }}
runs:
  using: composite
  steps:
    # The job's own Node (20 or later; GitHub's runners have one) runs the guard: the action does not
    # switch it under the caller's later steps.
    - name: Install fnlb-guard
      shell: bash
      run: cd "$GITHUB_ACTION_PATH" && npm ci --no-audit --no-fund
    - name: Guard
      id: guard
      shell: bash
      env:
${env}
      run: bash "$GITHUB_ACTION_PATH/scripts/fnlb-guard-action.sh"
`;
}
