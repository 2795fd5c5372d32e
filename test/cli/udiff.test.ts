import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../../src/cli/udiff.js";

describe("unifiedDiff", () => {
  it("is empty for equal texts", () => {
    expect(unifiedDiff("a\nb\n", "a\nb\n", "x", "y")).toBe("");
  });
  it("prints hunks with 3 lines of context, deletions before insertions, as diff -u", () => {
    const a = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"].join("\n") + "\n";
    const b = a.replace("2\n", "two\n").replace("11\n", "");
    expect(unifiedDiff(a, b, "a", "b")).toBe(
      "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n@@ -8,5 +8,4 @@\n 8\n 9\n 10\n-11\n 12\n",
    );
  });
  it("a new file is all insertions from /dev/null", () => {
    expect(unifiedDiff("", "x\ny\n", "/dev/null", "b")).toBe("--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n");
  });
});
