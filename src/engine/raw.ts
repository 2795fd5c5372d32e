// The few fields of Docker Engine API (v1.41) objects that chaosctl reads. Declared here so the
// mapping (mapping.ts) is pure and testable without dockerode, whose own types are mostly `any`.

export interface RawVersion {
  Index?: number;
}

export interface RawNode {
  ID: string;
  Version?: RawVersion;
  Spec?: { Name?: string; Role?: string; Availability?: string; Labels?: Record<string, string> | null };
  Description?: { Hostname?: string };
  Status?: { State?: string; Addr?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string };
  UpdatedAt?: string;
}

export interface RawHealthcheck {
  Test?: string[] | null;
}

export interface RawService {
  ID: string;
  Version?: RawVersion;
  Spec?: {
    Name?: string;
    Labels?: Record<string, string> | null;
    TaskTemplate?: {
      ContainerSpec?: { Image?: string; Healthcheck?: RawHealthcheck | null };
      Resources?: { Limits?: { MemoryBytes?: number; NanoCPUs?: number } | null } | null;
    };
    Mode?: { Replicated?: { Replicas?: number }; Global?: object; ReplicatedJob?: object; GlobalJob?: object };
  };
}

export interface RawTask {
  ID: string;
  ServiceID?: string;
  NodeID?: string;
  Slot?: number;
  DesiredState?: string;
  CreatedAt?: string;
  Status?: {
    Timestamp?: string;
    State?: string;
    Message?: string;
    Err?: string;
    ContainerStatus?: { ContainerID?: string; ExitCode?: number };
  };
  NetworksAttachments?: Array<{
    Network?: { ID?: string; Spec?: { Name?: string } };
    Addresses?: string[] | null;
  }> | null;
}

/** GET /containers/json entry. */
export interface RawContainerSummary {
  Id: string;
  Names?: string[] | null;
  Image?: string;
  Labels?: Record<string, string> | null;
  State?: string;
  Status?: string;
  Created?: number;
}

/** GET /containers/{id}/json. */
export interface RawContainerInspect {
  Id: string;
  Name?: string;
  Created?: string;
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  State?: { Status?: string; ExitCode?: number; OOMKilled?: boolean; Health?: { Status?: string } | null };
  HostConfig?: { Memory?: number; NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number; CgroupParent?: string };
}

export interface RawEvent {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> | null };
  time?: number;
  timeNano?: number;
}

export interface RawConfig {
  ID: string;
  Version?: RawVersion;
  CreatedAt?: string;
  UpdatedAt?: string;
  Spec?: { Name?: string; Labels?: Record<string, string> | null; Data?: string };
}
