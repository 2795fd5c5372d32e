// spec.fault.network as the CRD defines it, and its resolved form (partition.from.services
// replaced by their tasks' addresses on networks shared with the target; network/resolve.ts).

export type PartitionDirection = "to" | "from" | "both";

export interface NetworkSpec {
  interface?: string;
  loss?: { probability: number };
  partition?: { from?: { services?: string[]; cidrs?: string[] }; direction?: PartitionDirection };
  bandwidth?: { rate: string; burst?: string; latency?: string };
}

export interface ResolvedNetworkSpec extends Omit<NetworkSpec, "partition"> {
  partition?: {
    /** undefined: cut all traffic on the interface; [] (services with no address now): cut nothing. */
    cidrs?: string[];
    direction: PartitionDirection;
  };
}
