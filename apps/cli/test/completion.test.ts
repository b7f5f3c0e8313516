import { spawnSync } from "node:child_process";
import { tempDir } from "@keepwarm/testkit";
import type { ArgsDef } from "citty";
import { afterAll, describe, expect, it } from "vitest";
import type { KeepwarmCommand } from "../src/command";
import { COMMANDS } from "../src/commands/index";
import { runInProcess } from "./in-process";

/** Every leaf command, as the words that name it. */
function leaves(commands: Record<string, KeepwarmCommand>, path: string[] = []): Array<{ path: string[]; cmd: KeepwarmCommand }> {
  return Object.entries(commands).flatMap(([name, cmd]) =>
    cmd.subCommands === undefined ? [{ path: [...path, name], cmd }] : leaves(cmd.subCommands, [...path, name]),
  );
}

const tmp = tempDir("keepwarm-completion-");
afterAll(() => tmp.cleanup());

/** What bash completes for the words typed (the last one is the word under the cursor), through the generated script. */
function completeAll(script: string, lines: string[][]): string[][] {
  const file = tmp.file("keepwarm.bash", script);
  const calls = lines
    .map((words) => {
      const quoted = words.map((w) => `'${w}'`).join(" ");
      return `COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _keepwarm; echo "\${COMPREPLY[*]}"`;
    })
    .join("\n");
  const result = spawnSync("bash", ["--noprofile", "--norc", "-c", `source '${file}'\ncd '${tmp.dir}'\n${calls}`], { encoding: "utf8" });
  expect(result.stderr).toBe("");
  return result.stdout
    .split("\n")
    .slice(0, lines.length)
    .map((line) => line.split(" ").filter(Boolean).sort());
}

describe("keepwarm completion", () => {
  it("bash: completes commands, subcommands and each command's declared options, from the declarations", async () => {
    const result = await runInProcess(["completion", "bash"]);
    expect(result.code).toBe(0);
    const script = result.stdout;
    const [top, ru, rulesVa, outbox, sweepDash, validateJ, dbValue] = completeAll(script, [
      ["keepwarm", ""],
      ["keepwarm", "ru"],
      ["keepwarm", "rules", "va"],
      ["keepwarm", "outbox", ""],
      ["keepwarm", "sweep", "--d"],
      ["keepwarm", "rules", "validate", "--j"],
      ["keepwarm", "sweep", "--db", "zz-no-such-file"],
    ]);
    expect(top).toEqual(Object.keys(COMMANDS).sort());
    expect(ru).toEqual(["rules"]);
    expect(rulesVa).toEqual(["validate"]);
    expect(outbox).toEqual(["list", "retry"]);
    expect(sweepDash).toEqual(["--db", "--dry-run"]);
    expect(validateJ).toEqual(["--json"]);
    // The value of --db is a path, not an option or a command.
    expect(dbValue).toEqual([]);

    // Every leaf command offers exactly its declared options (and --help) after "--".
    const all = leaves(COMMANDS);
    const offered = completeAll(
      script,
      all.map(({ path }) => ["keepwarm", ...path, "--"]),
    );
    all.forEach(({ path, cmd }, i) => {
      const declared = Object.entries((cmd.args ?? {}) as ArgsDef)
        .filter(([, def]) => def.type !== "positional")
        .map(([name]) => `--${name}`);
      expect(offered[i], path.join(" ")).toEqual([...declared, "--help"].sort());
    });
  });

  it("zsh and fish: scripts name every command; an unknown shell is one line, exit 1", async () => {
    const zsh = await runInProcess(["completion", "zsh"]);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toContain("bashcompinit");
    expect(zsh.stdout).toContain("complete -o filenames -F _keepwarm keepwarm");
    const fish = await runInProcess(["completion", "fish"]);
    expect(fish.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(fish.stdout).toContain(`-n '__fish_use_subcommand' -a ${name} `);
    expect(fish.stdout).toContain("-n '__fish_seen_subcommand_from sweep' -l dry-run");
    const bad = await runInProcess(["completion", "tcsh"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain('unknown shell "tcsh"');
  });
});
