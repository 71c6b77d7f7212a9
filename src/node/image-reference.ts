// Docker's image reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest], path
// components of lower-case letters and digits joined by ".", "_", "__" or dashes. A route's image is
// checked against it at the API (400) and again by the docker driver before any Engine call, whose
// API puts the name in the request path: nothing but a reference may reach it.

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?)`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`,
);
/** Docker's limit on a repository name. */
const MAX_LENGTH = 255;

export function isImageReference(name: string): boolean {
  return name.length <= MAX_LENGTH && REFERENCE.test(name);
}

/** A reference for an Engine API path: each part percent-encoded, the '/' between them kept. */
export function engineImagePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
