import type { ArgsDef } from "citty";
import type { KeepwarmCommand } from "./command";

/** One command of the tree, as completion sees it: the words naming it, its subcommands, its options. */
interface Node {
  path: string[];
  subcommands: Array<{ name: string; description: string }>;
  options: Array<{ name: string; description: string; takesValue: boolean }>;
}

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Every command and group, from the declarations (commands/index.ts): the scripts cannot drift from the CLI. */
function nodes(commands: Record<string, KeepwarmCommand>, path: string[] = []): Node[] {
  const here: Node = {
    path,
    subcommands: Object.entries(commands)
      .filter(([, c]) => c.meta.hidden !== true)
      .map(([name, c]) => ({ name, description: c.meta.description })),
    options: path.length === 0 ? [{ name: "version", description: "print the version", takesValue: false }] : [],
  };
  const below = Object.entries(commands).flatMap(([name, c]) => {
    if (c.subCommands !== undefined) return nodes(c.subCommands, [...path, name]);
    const options = Object.entries((c.args ?? {}) as ArgsDef)
      .filter(([, def]) => def.type !== "positional")
      .map(([option, def]) => ({ name: option, description: def.description ?? "", takesValue: def.type === "string" || def.type === "enum" }));
    return [{ path: [...path, name], subcommands: [], options }];
  });
  return [here, ...below];
}

const withHelp = (node: Node) => [...node.options, { name: "help", description: "show help", takesValue: false }];

function bash(tree: Node[]): string {
  const cases = tree.map((node) => {
    const subs = node.subcommands.map((s) => s.name).join(" ");
    const opts = withHelp(node)
      .map((o) => `--${o.name}`)
      .join(" ");
    const valued = node.options
      .filter((o) => o.takesValue)
      .map((o) => `--${o.name}`)
      .join(" ");
    return `    "${node.path.join(" ")}") subs="${subs}"; opts="${opts}"; valued="${valued}" ;;`;
  });
  return `# keepwarm completion for bash: eval "$(keepwarm completion bash)", or save it as
# /etc/bash_completion.d/keepwarm. Generated from the command declarations.
_keepwarm() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" word i subs opts valued
  # The command path: the words before the cursor, as long as each names a subcommand of the path so far.
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    _keepwarm_node "$path"
    [[ " $subs " == *" $word "* ]] || break
    path="\${path:+$path }$word"
  done
  _keepwarm_node "$path"
  (( COMP_CWORD > 1 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [[ -n "$prev" && " $valued " == *" $prev "* ]]; then
    # The value of an option: a path, a URL, a date… file names are the useful guess.
    COMPREPLY=( $(compgen -f -- "$cur") )
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [[ -n "$subs" ]]; then
    COMPREPLY=( $(compgen -W "$subs" -- "$cur") )
  else
    COMPREPLY=( $(compgen -f -- "$cur") )
  fi
  return 0
}
# Sets subs, opts and valued (options taking a value) for one command path.
_keepwarm_node() {
  case "$1" in
${cases.join("\n")}
    *) subs=""; opts="--help"; valued="" ;;
  esac
}
complete -o filenames -F _keepwarm keepwarm
`;
}

function zsh(tree: Node[]): string {
  return `#compdef keepwarm
# keepwarm completion for zsh: eval "$(keepwarm completion zsh)" in ~/.zshrc (after compinit).
# The bash completion, through zsh's bashcompinit: one generated script for both shells.
autoload -U +X bashcompinit && bashcompinit
${bash(tree)}`;
}

const fishQuote = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function fish(tree: Node[]): string {
  const lines = [
    "# keepwarm completion for fish: keepwarm completion fish > ~/.config/fish/completions/keepwarm.fish",
    "# Generated from the command declarations.",
    "complete -c keepwarm -f",
  ];
  for (const node of tree) {
    // The path so far is exactly these words: fish's own helper checks the words typed.
    const condition =
      node.path.length === 0
        ? "__fish_use_subcommand"
        : `__fish_seen_subcommand_from ${node.path[node.path.length - 1]}${node.path.length > 1 ? `; and __fish_seen_subcommand_from ${node.path[0]}` : ""}`;
    const leaf = node.subcommands.length === 0;
    const guard =
      leaf || node.path.length === 0 ? condition : `${condition}; and not __fish_seen_subcommand_from ${node.subcommands.map((s) => s.name).join(" ")}`;
    for (const sub of node.subcommands) lines.push(`complete -c keepwarm -n ${fishQuote(guard)} -a ${sub.name} -d ${fishQuote(sub.description)}`);
    for (const option of withHelp(node))
      lines.push(`complete -c keepwarm -n ${fishQuote(guard)} -l ${option.name}${option.takesValue ? " -r -F" : ""} -d ${fishQuote(option.description)}`);
  }
  return `${lines.join("\n")}\n`;
}

export function completionScript(shell: Shell, commands: Record<string, KeepwarmCommand>): string {
  const tree = nodes(commands);
  return shell === "bash" ? bash(tree) : shell === "zsh" ? zsh(tree) : fish(tree);
}
