// The files generated from the settings table, the catalogue and the workloads, by their path in the package:
// `npm run docs:guard` (write-docs.ts) writes them, and tests/unit/guard-settings.test.ts fails when a
// committed one differs. GENERATED are whole files; GENERATED_SECTIONS are parts of a file written by
// hand, each between the marker comments `<!-- <name>:start -->` and `<!-- <name>:end -->`.
import { actionYaml } from './action.js';
import { configurationPage, propertiesTable, workloadTable } from './render.js';

export const GENERATED: Record<string, () => string> = {
  'action.yml': actionYaml,
  'docs/configuration.md': configurationPage,
};

export const GENERATED_SECTIONS: Record<string, Record<string, () => string>> = {
  'README.md': { properties: propertiesTable },
  'docs/guard.md': { workloads: workloadTable },
};

/** `text` with each named section's body between its markers replaced by its rendering. */
export function withSections(file: string, text: string, sections: Record<string, () => string>): string {
  let result = text;
  for (const [name, render] of Object.entries(sections)) {
    const start = `<!-- ${name}:start -->`;
    const end = `<!-- ${name}:end -->`;
    const from = result.indexOf(start);
    const to = result.indexOf(end);
    if (from < 0 || to < from || result.indexOf(start, from + 1) >= 0) {
      throw new Error(`${file}: needs one ${start} followed by one ${end}`);
    }
    result = `${result.slice(0, from + start.length)}\n${render()}\n${result.slice(to)}`;
  }
  return result;
}
