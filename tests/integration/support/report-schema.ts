// The JSON Schema of fnlb-guard.json (guard/report/fnlb-guard-report.schema.json, shipped in the
// package and exported as fnlb-guard/report.schema.json), and a validator for the tests: they hold the
// reports the guard writes to it, so a consumer that validates them never meets a field it was not
// told of.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { PACKAGE } from '../../../src/common/package-root.js';

export const REPORT_SCHEMA_FILE = join(PACKAGE.root, 'guard/report/fnlb-guard-report.schema.json');

let compiled: ((report: unknown) => boolean) & {
  errors?: { instancePath: string; message?: string }[] | null;
};

/** What is wrong with `report` by the schema, one line per problem; empty when it conforms. */
export function reportProblems(report: unknown): string[] {
  if (compiled === undefined) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    compiled = ajv.compile(JSON.parse(readFileSync(REPORT_SCHEMA_FILE, 'utf8')));
  }
  if (compiled(report)) return [];
  return (compiled.errors ?? []).map(
    (error) => `${error.instancePath || '/'} ${error.message ?? 'is invalid'}`,
  );
}
