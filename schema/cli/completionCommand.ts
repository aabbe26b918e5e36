/** `<program> completion bash|zsh`, the same subcommand for skyboot and skyboot-agent. */
import { Argument, type Command } from 'commander';
import { commandTree, type ExtraOption } from './commandTree.js';
import { completionScript, SHELLS, type Shell } from './completion.js';

export function registerCompletionCommand(program: Command, out: (text: string) => void, rootExtras: ExtraOption[] = []): void {
  const name = program.name();
  program
    .command('completion')
    .description(`print the shell completion script (bash: source <(${name} completion bash); zsh: source <(${name} completion zsh) after compinit)`)
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(SHELLS))
    // The tree is read when asked, so it holds every command registered after this one too.
    .action((shell: Shell) => out(completionScript(commandTree(program, rootExtras), shell).replace(/\n$/, '')));
}
