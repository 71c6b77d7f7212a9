// How a function tells its node it can take calls. Under the process driver the FDK writes on the
// descriptor named by FN_READY_FD; a container has no such descriptor, so an image labelled
// READY_LABEL=stderr gets FN_READY_STREAM=stderr and the FDK writes READY_STDERR_LINE on stderr
// instead (the docker driver takes that line out before the node logs stderr).
export const READY_LABEL = 'fnlb-guard.ready';
export const READY_STDERR_LINE = 'fnguard-fdk: ready';
