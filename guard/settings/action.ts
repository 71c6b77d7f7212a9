// action.yml, the reusable GitHub Action, as text: its inputs and the step environment that hands
// them to the guard come from the settings table (render.ts), the rest is written here once.
// generated.ts lists it with the other generated files.
import { actionInputsYaml, totalMinutes } from './render.js';

export function actionYaml(): string {
  const { inputs, env } = actionInputsYaml();
  return `# fnlb-guard as one step of a balancer's (or node's) own pipeline: runs the guard's properties against the
# build or the running deployment the inputs name and fails the step when one fails. Generated from
# guard/settings/table.ts by \`npm run docs:guard\`: every input is a setting of the guard (see
# docs/configuration.md). Reports (fnlb-guard.json, junit.xml, logs/) land in \`reports\`; the verdict
# table goes to the job's summary page.
name: fnlb-guard
description: Guard an Fn-compatible balancer or node build - stickiness, hot reuse, no stampede, balance, failover and more - with measured values against explicit bounds. A full run takes about ${totalMinutes()} min on this project's nodes, about ${totalMinutes('quick')} min with scale quick (more on Fn servers; fnlb-guard --list gives each property's cost), plus a minute or two to install.
branding:
  icon: shield
  color: blue
${inputs}
  package:
    description: "the fnlb-guard package to run: an npm spec (fnlb-guard@0.2.0) or a packed tarball's path; default the release this action is"
    required: false
outputs:
  report:
    description: Path of the run's fnlb-guard.json.
    value: \${{ steps.guard.outputs.report }}
  html:
    description: Path of the run's fnlb-guard.html, the report for a person (timelines and distributions drawn).
    value: \${{ steps.guard.outputs.html }}
  verdict:
    description: pass, fail, skipped, or error when nothing was judged (the setup failed or no report was written; the report's setupError says why).
    value: \${{ steps.guard.outputs.verdict }}
runs:
  using: composite
  steps:
    # The job's own Node (20.19, 22.12 or later; GitHub's runners have one) runs the guard: the action
    # does not switch it under the caller's later steps. The script installs the package first (its
    # runtime dependencies only, into the runner's temporary folder), then runs it.
    - name: Guard
      id: guard
      shell: bash
      env:
${env}
        INPUT_PACKAGE: \${{ inputs.package }}
      run: bash "$GITHUB_ACTION_PATH/scripts/fnlb-guard-action.sh"
`;
}
