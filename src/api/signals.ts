// The signals a kill may send: the Linux signal names the Docker engine accepts (its
// signal map for Linux), or a number in the kernel's range. The schema pattern only checks
// the shape ("SIG" and capitals), so a typo like SIGKIL would validate and fail at the first
// run; this list lets validation refuse it with a suggestion.
export const LINUX_SIGNALS = [
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGCLD",
  "SIGCONT",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGIO",
  "SIGIOT",
  "SIGKILL",
  "SIGPIPE",
  "SIGPOLL",
  "SIGPROF",
  "SIGPWR",
  "SIGQUIT",
  "SIGRTMAX",
  "SIGRTMIN",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSTOP",
  "SIGSYS",
  "SIGTERM",
  "SIGTRAP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGUSR1",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGWINCH",
  "SIGXCPU",
  "SIGXFSZ",
] as const;

/** Linux numbers signals 1 to 64 (SIGRTMAX); 0 only probes a process and sends nothing. */
export const MAX_SIGNAL_NUMBER = 64;

const KNOWN = new Set<string>(LINUX_SIGNALS);

/** Whether a kill may send `signal` (a name from LINUX_SIGNALS or a number 1-64). */
export function isKnownSignal(signal: string): boolean {
  if (/^[0-9]+$/.test(signal)) {
    const n = Number(signal);
    return n >= 1 && n <= MAX_SIGNAL_NUMBER;
  }
  return KNOWN.has(signal);
}
