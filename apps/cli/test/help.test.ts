import type { ArgsDef } from "citty";
import { describe, expect, it } from "vitest";
import type { KeepwarmCommand } from "../src/command";
import { COMMANDS } from "../src/commands/index";
import { runInProcess } from "./in-process";

/** Every command and subcommand, as the words that name it. */
function walk(commands: Record<string, KeepwarmCommand>, path: string[] = []): Array<{ path: string[]; cmd: KeepwarmCommand }> {
  return Object.entries(commands).flatMap(([name, cmd]) => [
    { path: [...path, name], cmd },
    ...(cmd.subCommands === undefined ? [] : walk(cmd.subCommands, [...path, name])),
  ]);
}

const all = walk(COMMANDS);

describe("keepwarm --help", () => {
  it("lists every command with its description, exit 0", async () => {
    const result = await runInProcess(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    for (const [name, cmd] of Object.entries(COMMANDS))
      expect(result.stdout).toMatch(new RegExp(`^ +${name} +${cmd.meta.description.replace(/[()|.*+?]/g, "\\$&")}$`, "m"));
  });

  it("walks every command and subcommand: --help exits 0 and lists its real options and arguments", async () => {
    expect(all.length).toBeGreaterThan(20);
    // Commands that began in the old style are declared like the rest (a port that dropped one would fail here).
    const names = all.map(({ path }) => path.join(" "));
    for (const name of [
      "outbox list",
      "outbox retry",
      "rules noise",
      "rules suggest",
      "health calibrate",
      "owners sync",
      "api",
      "tokens create",
      "tokens list",
      "tokens revoke",
    ])
      expect(names).toContain(name);
    expect(Object.keys(COMMANDS.report?.args ?? {})).toContain("calibrate");
    expect(Object.keys(COMMANDS.import?.args ?? {})).toEqual(expect.arrayContaining(["map", "mapping", "date-format", "dry-run"]));
    for (const { path, cmd } of all) {
      const result = await runInProcess([...path, "--help"]);
      expect(result.code, path.join(" ")).toBe(0);
      expect(result.stderr, path.join(" ")).toBe("");
      expect(result.stdout).toContain(`keepwarm ${path.join(" ")}`);
      expect(result.stdout).toContain(cmd.meta.description);
      for (const [name, def] of Object.entries((cmd.args ?? {}) as ArgsDef)) {
        expect(result.stdout, `${path.join(" ")} --help lists ${name}`).toContain(def.type === "positional" ? name.toUpperCase() : `--${name}`);
      }
      for (const sub of Object.keys(cmd.subCommands ?? {})) expect(result.stdout).toMatch(new RegExp(`^ +${sub} `, "m"));
      // -h too, and help wins over everything else on the line (init --help must not init).
      expect((await runInProcess([...path, "-h", "--no-such-option"])).code).toBe(0);
    }
  });

  it("every declared option is accepted by its command's parser (no option is listed but refused)", async () => {
    for (const { path, cmd } of all) {
      for (const [name, def] of Object.entries((cmd.args ?? {}) as ArgsDef)) {
        if (def.type === "positional") continue;
        const result = await runInProcess([...path, def.type === "boolean" ? `--${name}` : `--${name}=x`, "--help"]);
        expect(result.code, `${path.join(" ")} --${name}`).toBe(0);
      }
    }
  });

  it("keepwarm help CMD is keepwarm CMD --help", async () => {
    expect(await runInProcess(["help", "rules", "apply"])).toEqual(await runInProcess(["rules", "apply", "--help"]));
  });

  it("--version prints the package version", async () => {
    const result = await runInProcess(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
