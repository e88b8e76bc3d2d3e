using System.CommandLine;
using Flywheel.Cli;
using Flywheel.Cli.Commands;

var root = new RootCommand("Flywheel: run, serve and improve open-weight language models.");
root.Subcommands.Add(InspectCommand.Create());
return CliErrors.Run(() => root.Parse(args).Invoke());
