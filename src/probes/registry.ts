// Runners by probe kind: adding a kind is one file and one line here.
import { cmdRunner } from "./cmd.js";
import { httpRunner } from "./http.js";
import { prometheusRunner } from "./prometheus.js";
import { serviceRunner } from "./service.js";
import type { ProbeKind, ProbeRunner } from "./types.js";

export const RUNNERS: Readonly<Record<ProbeKind, ProbeRunner>> = {
  http: httpRunner,
  cmd: cmdRunner,
  prometheus: prometheusRunner,
  service: serviceRunner,
};
