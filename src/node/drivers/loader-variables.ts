// Environment variables that change how a runtime or the dynamic loader loads code, so that whoever
// sets them runs code of their choosing inside the function before the function's own: refused in app
// and route config at the API (400 naming the key), and dropped by the drivers from every instance's
// environment as a second line (config written before this check, or by another node build).

/** Exact names: Node, shells, Python, Perl, Ruby, the JVM, glibc. */
const NAMES = new Set([
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_REPL_EXTERNAL_MODULE',
  'NODE_ICU_DATA',
  'NODE_EXTRA_CA_CERTS',
  'BASH_ENV',
  'ENV',
  'PYTHONPATH',
  'PYTHONSTARTUP',
  'PYTHONHOME',
  'PERL5LIB',
  'PERL5OPT',
  'PERLLIB',
  'RUBYLIB',
  'RUBYOPT',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'GETCONF_DIR',
  'HOSTALIASES',
  'MALLOC_CONF',
]);
/** Prefixes: the dynamic loaders of Linux (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT...) and macOS. */
const PREFIXES = ['LD_', 'DYLD_'];

export function isLoaderVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return NAMES.has(upper) || PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** The environment without loader variables, and the names dropped (for the log). */
export function withoutLoaderVariables(env: Record<string, string>): {
  env: Record<string, string>;
  dropped: string[];
} {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (isLoaderVariable(name)) dropped.push(name);
    else kept[name] = value;
  }
  return { env: kept, dropped };
}
