// Typed failures of network faults. `reason` is the stable string a run's status records.

export class NetworkFaultError extends Error {
  readonly reason: string = "NetworkFaultFailed";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A user string (interface, CIDR, rate...) that must not reach tc/iptables. */
export class InvalidNetworkSpec extends NetworkFaultError {
  override readonly reason = "InvalidSpec";
}

/** The kernel lacks a qdisc, classifier or match the fault needs (e.g. sch_netem). */
export class KernelUnsupported extends NetworkFaultError {
  override readonly reason = "KernelUnsupported";
  constructor(
    readonly missing: string,
    detail: string,
  ) {
    super(`kernel does not support ${missing}: ${detail}`);
  }
}

/** The interface already has a root qdisc that chaosctl did not install: never replaced silently. */
export class ForeignQdisc extends NetworkFaultError {
  override readonly reason = "ForeignQdisc";
  constructor(
    readonly dev: string,
    readonly kind: string,
    readonly handle: string,
  ) {
    super(`${dev} already has a root qdisc "${kind}" (handle ${handle}) not owned by chaosctl; refusing to replace it`);
  }
}

/** The interface does not exist in the target's namespace. */
export class NoSuchInterface extends NetworkFaultError {
  override readonly reason = "NoSuchInterface";
}

/** A tc/iptables command failed for another reason; carries argv and stderr. */
export class CommandFailed extends NetworkFaultError {
  override readonly reason = "CommandFailed";
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`${argv.join(" ")} exited ${exitCode}: ${stderr.trim()}`);
  }
}
