import { InvalidArgumentError, Option, type Command } from "commander";
import { OPTIONS, type CommandName, type OptionSpec } from "../project/options.js";

/** The commander Option for an entry; a bad value is a usage error naming the flag and what it accepts. */
export function commanderOption(spec: OptionSpec): Option {
  const help = spec.defaultText ? `${spec.description} (default: ${spec.defaultText})` : spec.description;
  const opt = new Option(spec.flags, help);
  if (spec.repeatable) return opt.argParser((value: string, previous: string[] = []) => [...previous, value]);
  const parser = spec.parser;
  if (parser) {
    opt.argParser((raw: string) => {
      const parsed = parser.parse(raw);
      if (!parsed.ok) throw new InvalidArgumentError(`expected ${parser.accepted}`);
      return parsed.value;
    });
  }
  if (spec.defaultValue !== undefined) opt.default(spec.defaultValue);
  return opt;
}

/** Adds to a command every option of the table that it takes, in the table's order. */
export function addTableOptions(command: Command, name: CommandName): Command {
  for (const spec of Object.values(OPTIONS) as OptionSpec[]) {
    if (spec.commands.includes(name)) command.addOption(commanderOption(spec));
  }
  return command;
}

