// chaosctl schema: the editor JSON Schema, i.e. the runtime schema generated from the CRD.
import type { Command } from "commander";
import { chaosScheduleSchema } from "../../api/generated/schema.js";
import { toJson, type CliContext } from "../output.js";

const HELP = `
The schema is generated from crds/chaosschedule.yaml, the same one chaosctl validates with
(unknown fields are errors; defaults and enums show up as completions).

Use it with the YAML language server (VS Code "YAML" extension, Neovim yamlls, ...):
  chaosctl schema > chaosschedule.schema.json
then either put this first line in a manifest:
  # yaml-language-server: $schema=./chaosschedule.schema.json
or map it to your manifests in the editor settings (VS Code settings.json):
  "yaml.schemas": { "./chaosschedule.schema.json": ["manifests/**/*.yaml"] }

The semantic rules (exactly one fault, durations, schedules, mode/value...) are checked by
chaosctl validate, not by the editor.`;

export function register(program: Command, ctx: CliContext): void {
  program
    .command("schema")
    .description("print the ChaosSchedule JSON Schema (draft-07) for editors")
    .addHelpText("after", HELP)
    .action(() => {
      ctx.io.stdout(toJson(chaosScheduleSchema));
    });
}
