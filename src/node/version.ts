// The version this node reports on GET /version: the package's own (semver >= 0.0.235, so historic
// fnlb builds accept the node).
import { PACKAGE } from '../common/package-root.js';

export const NODE_VERSION = PACKAGE.version;
